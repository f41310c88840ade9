//! `lint --format junit`: JUnit XML, the test report GitLab
//! (`artifacts:reports:junit`), Jenkins and most CI servers show.
//!
//! The common shape those readers take: `<testsuites>` with the totals, one
//! `<testsuite>` per linted file, one `<testcase>` per finding (named by its
//! code and JSON pointer, `classname` the file). A finding at or above the
//! file's `--fail-on` is a `<failure>`; one below passes and carries its message in
//! `<system-out>`; a suppressed finding is `<skipped>` with the reason; a file
//! that could not be read is an `<error>`; a file without findings has one
//! passing `lint` test case. The per-code cap and the excluded paths are
//! `<properties>`.

use translator::Diagnostic;

use super::lint::{place, Context};
use super::Linted;

/// Text for XML content and attribute values: the five special characters escaped, and
/// characters XML 1.0 cannot hold (most C0 controls) written as `\u{…}`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push_str(&c.escape_unicode().to_string())
            }
            c => out.push(c),
        }
    }
    out
}

fn case_name(d: &Diagnostic) -> String {
    match d.pointer.as_ref().filter(|p| !p.as_str().is_empty()) {
        Some(p) => format!("{} {}", d.code(), p.as_str()),
        None => d.code().to_string(),
    }
}

fn suite(linted: &Linted, out: &mut String) -> (usize, usize, usize, usize) {
    let file = linted.name();
    let mut cases = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    let mut properties = String::new();
    match &linted.outcome {
        Err(reason) => {
            tests += 1;
            errors += 1;
            cases.push_str(&format!(
                "    <testcase name=\"lint\" classname=\"{f}\">\n      <error message=\"{r}\" type=\"unreadable\">{f}: {r}</error>\n    </testcase>\n",
                f = escape(&file),
                r = escape(reason)
            ));
        }
        Ok(report) => {
            for d in &report.findings {
                tests += 1;
                let text = format!(
                    "{} [{}] {}: {}{}",
                    d.severity,
                    d.code(),
                    place(d, report, &file),
                    d.message,
                    d.help
                        .as_ref()
                        .map(|h| format!("\nhelp: {h}"))
                        .unwrap_or_default()
                );
                let line = if d.span.is_defined() {
                    report.source.line_col(d.span.start).0
                } else {
                    1
                };
                cases.push_str(&format!(
                    "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\">\n",
                    escape(&case_name(d)),
                    escape(&file),
                    escape(&file)
                ));
                if d.severity >= linted.fail_on {
                    failures += 1;
                    cases.push_str(&format!(
                        "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                        escape(&d.message),
                        escape(d.code()),
                        escape(&text)
                    ));
                } else {
                    cases.push_str(&format!(
                        "      <system-out>{}</system-out>\n",
                        escape(&text)
                    ));
                }
                cases.push_str("    </testcase>\n");
            }
            for s in &report.suppressed {
                tests += 1;
                skipped += 1;
                cases.push_str(&format!(
                    "    <testcase name=\"{}\" classname=\"{}\">\n      <skipped message=\"suppressed: {}\"/>\n    </testcase>\n",
                    escape(&case_name(&s.diagnostic)),
                    escape(&file),
                    escape(&s.reason)
                ));
            }
            if tests == 0 {
                tests += 1;
                cases.push_str(&format!(
                    "    <testcase name=\"lint\" classname=\"{}\"/>\n",
                    escape(&file)
                ));
            }
            let capped = report.capped();
            if capped > 0 {
                properties.push_str(&format!(
                    "    <properties>\n      <property name=\"capped\" value=\"{capped}\"/>\n    </properties>\n"
                ));
            }
        }
    }
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n{properties}{cases}  </testsuite>\n",
        escape(&file)
    ));
    (tests, failures, errors, skipped)
}

pub fn report(cx: &Context<'_>) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for linted in cx.results {
        let (t, f, e, s) = suite(linted, &mut suites);
        tests += t;
        failures += f;
        errors += e;
        skipped += s;
    }
    let properties = if cx.summary.excluded > 0 || cx.summary.capped > 0 {
        format!(
            "  <properties>\n    <property name=\"excluded\" value=\"{}\"/>\n    <property name=\"capped\" value=\"{}\"/>\n  </properties>\n",
            cx.summary.excluded, cx.summary.capped
        )
    } else {
        String::new()
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"proxmox-lxcri lint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n{properties}{suites}</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(
            escape("a<b>&\"'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;&#10;\\u{1}"
        );
    }
}
