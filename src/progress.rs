//! Progress bars for long work (simulate, ingest): shown on a terminal, hidden otherwise.

/// A bar of `len` steps with the given indicatif template, or a hidden one when `show` is false.
pub fn bar(len: u64, template: &str, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar
}
