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
    for d in diags {
        out.push_str(&d.to_json(source).to_string());
        out.push('\n');
    }
    out
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
