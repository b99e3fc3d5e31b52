//! Uploads by URL (TAP 1.1 section 2.5.6, TAPRegExt `upload-http`, which TAP makes mandatory
//! for services that take uploads) without letting the service be used against the network
//! it stands in (server-side request forgery): only http URLs whose host resolves to public
//! addresses only, connected to the address that was checked (no second DNS answer), no
//! redirects followed, size and time limited. `limits.upload_urls = "off"` turns URL uploads
//! off altogether (and the capabilities then do not declare them).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use actix_web::web::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_secs(30);

/// An http URL, split.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpUrl {
    pub host: String,
    pub port: u16,
    /// Path and query, starting with '/'.
    pub target: String,
}

pub fn parse_url(url: &str) -> Result<HttpUrl, String> {
    // `get` rather than slicing: the URL is user input and may start with multi-byte
    // characters, where a byte index is no character boundary.
    let scheme_is = |prefix: &str| url.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix));
    let rest = if scheme_is("http://") {
        url.get(7..).unwrap_or_default()
    } else if scheme_is("https://") {
        return Err(format!("{url}: https upload URLs are not supported; use http, or send the table inline"));
    } else {
        return Err(format!("{url} is not an http URL"));
    };
    if rest.is_empty() {
        return Err(format!("{url} names no host"));
    }
    let (authority, target) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.contains('@') {
        return Err(format!("{url}: credentials in upload URLs are not accepted"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| format!("{url}: bad IPv6 address"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("{url}: bad port"))?,
            None => 80,
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().map_err(|_| format!("{url}: bad port"))?),
            None => (authority.to_string(), 80),
        }
    };
    if host.is_empty() || target.chars().any(|c| c.is_control() || c == ' ') {
        return Err(format!("{url} is not a valid http URL"));
    }
    Ok(HttpUrl { host, port, target })
}

/// Is the address on the public internet (not loopback, private, link-local, shared,
/// multicast, documentation, reserved)? RFC 6890 special-purpose registries.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0];
            if nat64 {
                return is_public_v4(Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_unspecified()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Fetches an upload URL under the SSRF rules above.
pub async fn fetch(url: &str, max_bytes: usize) -> Result<Bytes, String> {
    let parsed = parse_url(url)?;
    let addresses: Vec<SocketAddr> = tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((parsed.host.as_str(), parsed.port)))
        .await
        .map_err(|_| format!("{url}: the host name did not resolve in time"))?
        .map_err(|e| format!("{url}: the host name does not resolve: {e}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("{url}: the host name does not resolve"));
    }
    if let Some(internal) = addresses.iter().find(|a| !is_public(a.ip())) {
        return Err(format!(
            "{url}: the host resolves to {}, which is not a public address; this service fetches uploads from public hosts only (send the table inline instead)",
            internal.ip()
        ));
    }
    tokio::time::timeout(TIMEOUT, fetch_from(addresses[0], &parsed, max_bytes))
        .await
        .map_err(|_| format!("{url}: no complete answer within {} s", TIMEOUT.as_secs()))?
}

/// GET over HTTP/1.1 from a given address (the policy check is the caller's).
pub async fn fetch_from(address: SocketAddr, url: &HttpUrl, max_bytes: usize) -> Result<Bytes, String> {
    let mut stream = tokio::net::TcpStream::connect(address).await.map_err(|e| format!("cannot connect to {}: {e}", url.host))?;
    let host = if url.port == 80 { url.host.clone() } else { format!("{}:{}", url.host, url.port) };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: dfbs-vo/{}\r\nAccept: application/x-votable+xml, text/xml, */*\r\nConnection: close\r\n\r\n",
        url.target,
        crate::VERSION
    );
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut raw = BytesMut::new();
    let mut buffer = [0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buffer).await.map_err(|e| format!("reading from {}: {e}", url.host))?;
        if n == 0 {
            break;
        }
        if raw.len() + n > max_bytes + 64 * 1024 {
            return Err(format!("the table at http://{host}{} is larger than the upload limit of {max_bytes} bytes", url.target));
        }
        raw.extend_from_slice(&buffer[..n]);
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(&raw) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return Err(format!("http://{host}{} did not answer with valid HTTP", url.target)),
    };
    let status = response.code.unwrap_or(0);
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    if (300..400).contains(&status) {
        return Err(format!(
            "http://{host}{} redirects to {}: redirects are not followed, give the final URL",
            url.target,
            header("location").unwrap_or_default()
        ));
    }
    if status != 200 {
        return Err(format!("http://{host}{} answered HTTP {status}", url.target));
    }
    let chunked = header("transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    let body = Bytes::copy_from_slice(&raw[head_len..]);
    let body = if chunked {
        dechunk(&body).ok_or_else(|| format!("http://{host}{} sent a malformed chunked body", url.target))?
    } else {
        body
    };
    if body.len() > max_bytes {
        return Err(format!("the table at http://{host}{} is larger than the upload limit of {max_bytes} bytes", url.target));
    }
    Ok(body)
}

fn dechunk(mut data: &[u8]) -> Option<Bytes> {
    let mut out = BytesMut::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out.freeze());
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(parse_url("http://example.org/t.vot?x=1").unwrap(), HttpUrl { host: "example.org".into(), port: 80, target: "/t.vot?x=1".into() });
        assert_eq!(parse_url("HTTP://h:8080").unwrap(), HttpUrl { host: "h".into(), port: 8080, target: "/".into() });
        assert_eq!(parse_url("http://[2001:db8::1]:81/a").unwrap().host, "2001:db8::1");
        assert!(parse_url("https://example.org/").unwrap_err().contains("https"));
        assert!(parse_url("http://user:pw@example.org/").is_err());
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("http://h/a b").is_err());
        // User input with multi-byte characters where a scheme would be: an error, no panic.
        assert!(parse_url("ééééééé://x").is_err());
        assert!(parse_url("httpé://x").is_err());
        assert!(parse_url("http://").is_err());
    }

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2001:db8::1"] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in ["8.8.8.8", "193.48.0.1", "2a00:1450::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n").unwrap(), Bytes::from_static(b"abcde"));
        assert!(dechunk(b"ff\r\nab").is_none());
    }

    #[tokio::test]
    async fn loopback_urls_are_refused() {
        let error = fetch("http://127.0.0.1:1/table.vot", 1000).await.unwrap_err();
        assert!(error.contains("not a public address"), "{error}");
        let error = fetch("http://localhost/table.vot", 1000).await.unwrap_err();
        assert!(error.contains("not a public address"), "{error}");
    }

    /// The HTTP client itself, against a local server (the policy is the caller's).
    #[tokio::test]
    async fn fetches_plain_and_chunked_and_refuses_redirects() {
        async fn serve(answer: &'static [u8]) -> SocketAddr {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                socket.write_all(answer).await.unwrap();
            });
            address
        }
        let url = HttpUrl { host: "h".into(), port: 80, target: "/t".into() };
        let a = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").await;
        assert_eq!(fetch_from(a, &url, 100).await.unwrap(), Bytes::from_static(b"hello"));
        let a = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n").await;
        assert_eq!(fetch_from(a, &url, 100).await.unwrap(), Bytes::from_static(b"hello"));
        let a = serve(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1/x\r\n\r\n").await;
        assert!(fetch_from(a, &url, 100).await.unwrap_err().contains("redirects are not followed"));
        let a = serve(b"HTTP/1.1 200 OK\r\n\r\n0123456789").await;
        assert!(fetch_from(a, &url, 5).await.unwrap_err().contains("larger than the upload limit"));
    }
}
