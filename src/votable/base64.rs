//! A streaming base64 encoder (RFC 4648 alphabet, '=' padding) for the STREAM element of the
//! BINARY and BINARY2 serialisations: bytes go in as they come, whole 3-byte groups are
//! encoded at once, the rest waits for the next call, and the text is broken into lines of
//! [`LINE_LENGTH`] characters (the MIME line length; base64 readers skip the whitespace).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Characters per line of the encoded text.
pub const LINE_LENGTH: usize = 76;
/// Input bytes per full line.
const LINE_BYTES: usize = LINE_LENGTH / 4 * 3;

#[derive(Debug, Default)]
pub struct Base64Encoder {
    /// Input bytes not yet encoded (fewer than 3).
    pending: [u8; 3],
    pending_len: usize,
    /// Characters on the current output line.
    line: usize,
}

#[inline]
fn quad(a: u8, b: u8, c: u8) -> [u8; 4] {
    let n = (u32::from(a) << 16) | (u32::from(b) << 8) | u32::from(c);
    [
        ALPHABET[(n >> 18) as usize & 63],
        ALPHABET[(n >> 12) as usize & 63],
        ALPHABET[(n >> 6) as usize & 63],
        ALPHABET[n as usize & 63],
    ]
}

impl Base64Encoder {
    pub fn new() -> Base64Encoder {
        Base64Encoder::default()
    }

    /// Encodes `data` (after what is pending) into `out`.
    pub fn encode(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        if self.pending_len > 0 {
            while self.pending_len < 3 {
                let Some((&first, rest)) = data.split_first() else { return };
                self.pending[self.pending_len] = first;
                self.pending_len += 1;
                data = rest;
            }
            let [a, b, c] = self.pending;
            self.pending_len = 0;
            self.push_quad(quad(a, b, c), out);
        }
        let whole = data.len() / 3 * 3;
        let (body, tail) = data.split_at(whole);
        out.reserve(body.len() / 3 * 4 + body.len() / LINE_BYTES + 2);
        let mut body = body;
        // Finish the current line, then encode whole lines at a time.
        while !body.is_empty() && self.line != 0 {
            let Some((group, rest)) = body.split_first_chunk::<3>() else { break };
            self.push_quad(quad(group[0], group[1], group[2]), out);
            body = rest;
        }
        let mut lines = body.chunks_exact(LINE_BYTES);
        for line in &mut lines {
            for group in line.chunks_exact(3) {
                out.extend_from_slice(&quad(group[0], group[1], group[2]));
            }
            out.push(b'\n');
        }
        for group in lines.remainder().chunks_exact(3) {
            self.push_quad(quad(group[0], group[1], group[2]), out);
        }
        for &byte in tail {
            self.pending[self.pending_len] = byte;
            self.pending_len += 1;
        }
    }

    #[inline]
    fn push_quad(&mut self, q: [u8; 4], out: &mut Vec<u8>) {
        out.extend_from_slice(&q);
        self.line += 4;
        if self.line >= LINE_LENGTH {
            out.push(b'\n');
            self.line = 0;
        }
    }

    /// Encodes what is pending, with padding, and ends the last line. The encoder can then
    /// start a new stream.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self.pending_len {
            1 => {
                let q = quad(self.pending[0], 0, 0);
                out.extend_from_slice(&[q[0], q[1], b'=', b'=']);
                self.line += 4;
            }
            2 => {
                let q = quad(self.pending[0], self.pending[1], 0);
                out.extend_from_slice(&[q[0], q[1], q[2], b'=']);
                self.line += 4;
            }
            _ => {}
        }
        self.pending_len = 0;
        if self.line > 0 {
            out.push(b'\n');
            self.line = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_all(data: &[u8]) -> String {
        let mut out = Vec::new();
        let mut encoder = Base64Encoder::new();
        encoder.encode(data, &mut out);
        encoder.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc4648_test_vectors() {
        let cases: [(&str, &str); 7] = [
            ("", ""),
            ("f", "Zg==\n"),
            ("fo", "Zm8=\n"),
            ("foo", "Zm9v\n"),
            ("foob", "Zm9vYg==\n"),
            ("fooba", "Zm9vYmE=\n"),
            ("foobar", "Zm9vYmFy\n"),
        ];
        for (input, expected) in cases {
            assert_eq!(encode_all(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn all_byte_values_and_line_breaks() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = encode_all(&data);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[..lines.len() - 1].iter().all(|line| line.len() == LINE_LENGTH));
        assert!(text.ends_with('\n'));
        let joined: String = lines.concat();
        assert_eq!(joined.len(), data.len().div_ceil(3) * 4);
        assert!(joined.starts_with("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9Q"));
    }

    /// Feeding the bytes in pieces of any size gives the same text as feeding them at once.
    #[test]
    fn chunking_does_not_change_the_output() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let whole = encode_all(&data);
        for piece in [1, 2, 3, 4, 5, 7, 56, 57, 58, 100, 171, 1999] {
            let mut out = Vec::new();
            let mut encoder = Base64Encoder::new();
            for chunk in data.chunks(piece) {
                encoder.encode(chunk, &mut out);
            }
            encoder.finish(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), whole, "pieces of {piece}");
        }
    }
}
