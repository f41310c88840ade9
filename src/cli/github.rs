//! `lint --format github`: GitHub Actions workflow commands. Printed by a
//! step, each becomes an annotation on the file and line of the pull request.
//!
//! `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=CODE::message`;
//! `info` findings become `::notice`. Values are escaped as the Actions
//! runner expects (`%`, CR and LF everywhere; `:` and `,` in properties too),
//! so a message cannot end the command early or inject another one.

use translator::{Diagnostic, Severity, Source};

use super::Linted;

pub fn commands(results: &[Linted]) -> String {
    let mut out = String::new();
    for linted in results {
        let file = linted.name();
        match &linted.outcome {
            Ok(report) => {
                for d in &report.findings {
                    out.push_str(&command(d, &report.source, &file));
                    out.push('\n');
                }
            }
            Err(reason) => {
                out.push_str(&format!(
                    "::error file={},title=unreadable::{}\n",
                    property(&file),
                    data(&format!("{file}: {reason}"))
                ));
            }
        }
    }
    out
}

fn command(d: &Diagnostic, source: &Source, file: &str) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut props = vec![format!("file={}", property(file))];
    if d.span.is_defined() {
        let (line, col) = source.line_col(d.span.start);
        let (end_line, end_col) = source.line_col(d.span.end);
        props.push(format!("line={line}"));
        props.push(format!("col={col}"));
        props.push(format!("endLine={end_line}"));
        props.push(format!("endColumn={end_col}"));
    }
    props.push(format!("title={}", property(d.code())));
    let mut message = d.message.clone();
    if let Some(p) = d.pointer.as_ref().filter(|p| !p.as_str().is_empty()) {
        message.push_str(&format!(" (at {p})"));
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!("::{level} {}::{}", props.join(","), data(&message))
}

/// Escapes a command's message.
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command's property value.
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_one_command_per_line() {
        assert_eq!(data("50%\nnext::error::x"), "50%25%0Anext::error::x");
        assert_eq!(property("a,b:c\r"), "a%2Cb%3Ac%0D");
    }
}
