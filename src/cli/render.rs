//! Diagnostics for people (miette) and machines (JSON lines).

use std::io::IsTerminal;

use translator::{Diagnostic, Source};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum DiagFormat {
    #[default]
    Human,
    Json,
}

/// Renders for a person, in colour or not (`--color`, NO_COLOR: see [`super::ColorChoice`]).
pub fn human(diags: &[Diagnostic], source: &Source, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let sourced = d.with_source(source);
        if handler.render_report(&mut out, &sourced).is_err() {
            out.push_str(&format!("{}: {}\n", d.code(), d.message));
        }
    }
    out
}

pub fn json_lines(diags: &[Diagnostic], source: &Source) -> String {
    let mut out = String::new();
    write_json_lines(&mut out, diags, source);
    out
}

/// [`json_lines`] into a buffer, serialised straight from the diagnostics (the same object
/// as `Diagnostic::to_json`, without building a `serde_json::Value` per finding).
pub fn write_json_lines(out: &mut String, diags: &[Diagnostic], source: &Source) {
    #[derive(serde::Serialize)]
    struct Span {
        start: usize,
        end: usize,
    }
    #[derive(serde::Serialize)]
    struct Line<'a> {
        file: &'a str,
        code: &'a str,
        severity: &'a str,
        pointer: Option<&'a str>,
        line: Option<usize>,
        column: Option<usize>,
        span: Option<Span>,
        message: &'a str,
        help: Option<&'a str>,
    }
    let mut buf = Vec::new();
    for d in diags {
        let at = d.span.is_defined().then(|| source.line_col(d.span.start));
        let line = Line {
            file: source.name(),
            code: d.code(),
            severity: d.severity.as_str(),
            pointer: d.pointer.as_ref().map(|p| p.as_str()),
            line: at.map(|(l, _)| l),
            column: at.map(|(_, c)| c),
            span: d.span.is_defined().then_some(Span {
                start: d.span.start,
                end: d.span.end,
            }),
            message: &d.message,
            help: d.help.as_deref(),
        };
        buf.clear();
        if serde_json::to_writer(&mut buf, &line).is_ok() {
            out.push_str(&String::from_utf8_lossy(&buf));
        }
        out.push('\n');
    }
}

pub fn stderr_color(choice: super::ColorChoice) -> bool {
    choice.enabled(std::io::stderr().is_terminal())
}

pub fn emit(diags: &[Diagnostic], source: &Source, format: DiagFormat, color: super::ColorChoice) {
    let text = match format {
        DiagFormat::Human => human(diags, source, stderr_color(color)),
        DiagFormat::Json => json_lines(diags, source),
    };
    eprint!("{text}");
}
