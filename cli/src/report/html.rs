//! The report as one self-contained HTML page: verdict, evidence table, inline PNG
//! frames, the SVG chart and the instruction timeline, all text escaped.

use super::{annotated, escape_html, fmt_time, labels, png_bytes, Report, ReportError};
use base64::Engine as _;
use std::fmt::Write as _;
use std::path::Path;

impl Report {
    /// The whole report as one self-contained HTML document (no external resources).
    pub fn to_html(&self) -> Result<String, ReportError> {
        let l = labels(self.language);
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut s = String::new();
        let title = escape_html(&self.title);
        let _ = write!(
            s,
            r#"<!DOCTYPE html>
<html lang="{}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 1.5em; color: #222; }}
.verdict {{ padding: .8em 1em; border-radius: 6px; color: #fff; font-size: 1.1em; }}
.passed {{ background: #1b7f2a; }} .failed {{ background: #b3261e; }}
.verdict code {{ background: rgba(255,255,255,.2); padding: 0 .3em; border-radius: 3px; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; }}
.strip {{ display: flex; flex-wrap: wrap; gap: 8px; }}
figure {{ margin: 0; width: min-content; }} figcaption {{ font-size: .8em; }}
.timeline td:first-child {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
</style>
</head>
<body>
<h1>{title}</h1>
"#,
            escape_html(self.language.tag())
        );
        let v = &self.verdict;
        let _ = writeln!(
            s,
            "<section class=\"verdict {}\"><strong>{}</strong> <code>{}</code><p>{}</p></section>",
            if v.passed { "passed" } else { "failed" },
            escape_html(if v.passed { l.passed } else { l.failed }),
            escape_html(&v.reason),
            escape_html(&v.message)
        );
        let _ = writeln!(s, "<h2>{}</h2>", escape_html(l.evidence));
        if self.evidence.is_empty() {
            let _ = writeln!(s, "<p>{}</p>", escape_html(l.none));
        } else {
            s.push_str("<table class=\"evidence\">\n");
            for (k, val) in &self.evidence {
                let _ = writeln!(
                    s,
                    "<tr><th>{}</th><td>{}</td></tr>",
                    escape_html(k),
                    escape_html(val)
                );
            }
            s.push_str("</table>\n");
        }
        let _ = write!(
            s,
            "<h2>{}</h2>\n<div class=\"strip\">\n",
            escape_html(l.frames)
        );
        for frame in &self.frames {
            let png = png_bytes(&annotated(frame, None))?;
            let _ = writeln!(
                s,
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}<br>{}</figcaption></figure>",
                escape_html(&fmt_time(frame.t_s)),
                b64.encode(&png),
                escape_html(&fmt_time(frame.t_s)),
                escape_html(&frame.instruction)
            );
        }
        s.push_str("</div>\n");
        let _ = write!(
            s,
            "<h2>{}</h2>\n{}\n",
            escape_html(l.chart),
            self.svg_chart()
        );
        let _ = writeln!(s, "<h2>{}</h2>", escape_html(l.instructions));
        if self.instructions.is_empty() {
            let _ = writeln!(s, "<p>{}</p>", escape_html(l.none));
        } else {
            s.push_str("<table class=\"timeline\">\n");
            for (t, text) in &self.instructions {
                let _ = writeln!(
                    s,
                    "<tr><td>{}</td><td>{}</td></tr>",
                    escape_html(&fmt_time(*t)),
                    escape_html(text)
                );
            }
            s.push_str("</table>\n");
        }
        s.push_str("</body>\n</html>\n");
        Ok(s)
    }

    /// Writes [`Report::to_html`] to `path`.
    pub fn write_html(&self, path: &Path) -> Result<(), ReportError> {
        let html = self.to_html()?;
        std::fs::write(path, html).map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}
