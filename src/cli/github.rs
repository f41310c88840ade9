//! `lint --format github`: GitHub Actions workflow commands, and a job summary.
//!
//! Printed by a step, each `::error`/`::warning`/`::notice` command becomes an
//! annotation on the file and line of the pull request:
//! `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=CODE::message`.
//! Values are escaped as the Actions runner expects (`%`, CR and LF
//! everywhere; `:` and `,` in properties too), so a message cannot end the
//! command early or inject another one.
//!
//! GitHub shows at most 10 annotations of each type (error, warning, notice)
//! per step and drops the rest without a word ("Annotations are limited to 10
//! of each type per step", GitHub's workflow-commands documentation). So the
//! most severe findings are annotated first, at most [`PER_TYPE`] of each type,
//! and one notice says how many were left out (and how many were suppressed
//! or capped); with `$GITHUB_STEP_SUMMARY` set, the job summary lists every
//! finding, up to GitHub's 1 MiB per step summary.

use std::io::Write;
use std::path::Path;

use translator::{Diagnostic, Severity, Source};

use super::lint::{place, plural, Context};

/// GitHub's limit of annotations of one type per step.
pub const PER_TYPE: usize = 10;
/// The file a step appends its Markdown job summary to.
pub const STEP_SUMMARY_ENV: &str = "GITHUB_STEP_SUMMARY";
/// GitHub's limit of one step's summary ("1024k").
pub const MAX_SUMMARY_BYTES: usize = 1024 * 1024;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

pub fn commands(cx: &Context<'_>) -> String {
    // (severity, command), errors first; the file order is kept within a severity.
    let mut all: Vec<(Severity, String)> = Vec::new();
    for linted in cx.results {
        let file = linted.name();
        match &linted.outcome {
            Ok(report) => {
                for d in &report.findings {
                    all.push((d.severity, command(d, &report.source, &file)));
                }
            }
            Err(reason) => all.push((
                Severity::Error,
                format!(
                    "::error file={},title=unreadable::{}",
                    property(&file),
                    data(&format!("{file}: {reason}"))
                ),
            )),
        }
    }
    all.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let count = |s: Severity| all.iter().filter(|(x, _)| *x == s).count();
    let (errors, warnings, notices) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let over = errors > PER_TYPE || warnings > PER_TYPE || notices > PER_TYPE;
    let summary = cx.summary;
    let has_note = over || summary.suppressed > 0 || summary.capped > 0 || summary.excluded > 0;
    // The note is a notice too, and counts against the notices' limit.
    let notice_room = if has_note { PER_TYPE - 1 } else { PER_TYPE };
    let mut shown = [0usize; 3];
    let mut out = String::new();
    let mut left_out = 0;
    for (s, cmd) in &all {
        let (slot, room) = match s {
            Severity::Error => (0, PER_TYPE),
            Severity::Warning => (1, PER_TYPE),
            Severity::Info => (2, notice_room),
        };
        let Some(n) = shown.get_mut(slot) else {
            continue;
        };
        if *n < room {
            *n += 1;
            out.push_str(cmd);
            out.push('\n');
        } else {
            left_out += 1;
        }
    }
    if has_note {
        // The summary line says what was suppressed, capped and excluded.
        let mut text = summary.line();
        if left_out > 0 {
            text.push_str(&format!(
                "; {} not annotated (GitHub shows at most {PER_TYPE} annotations of each type per step; the most severe are shown)",
                plural(left_out, "finding is", "findings are")
            ));
        }
        text.push_str(". The job summary lists every finding.");
        out.push_str(&format!(
            "::notice title=proxmox-lxcri lint::{}\n",
            data(&text)
        ));
    }
    out
}

fn command(d: &Diagnostic, source: &Source, file: &str) -> String {
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
    format!(
        "::{} {}::{}",
        level(d.severity),
        props.join(","),
        data(&message)
    )
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

/// Text in a Markdown table cell: no cell or row break, no HTML.
fn cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// The job summary: the totals, a table per rule, and every finding, within GitHub's size
/// limit (a last line says how many findings did not fit).
pub fn step_summary(cx: &Context<'_>) -> String {
    let mut out = String::from("## proxmox-lxcri lint\n\n");
    out.push_str(&cell(&cx.summary.line()));
    out.push_str("\n\n");
    let stats = super::lint::statistics_rows(cx.results);
    if !stats.is_empty() {
        out.push_str("| reported | suppressed | code | severity | rule |\n| ---: | ---: | --- | --- | --- |\n");
        for r in &stats {
            out.push_str(&format!(
                "| {} | {} | `{}` | {} | {} |\n",
                r.reported,
                r.suppressed,
                r.rule.code,
                r.severity,
                cell(r.rule.summary)
            ));
        }
        out.push('\n');
    }
    let mut rows = Vec::new();
    for linted in cx.results {
        let file = linted.name();
        match &linted.outcome {
            Ok(report) => {
                for d in &report.findings {
                    rows.push(format!(
                        "| {} | {} | `{}` | {} |\n",
                        cell(&place(d, report, &file)),
                        d.severity,
                        cell(d.code()),
                        cell(&d.message)
                    ));
                }
            }
            Err(reason) => rows.push(format!(
                "| {} | error | unreadable | {} |\n",
                cell(&file),
                cell(reason)
            )),
        }
    }
    if rows.is_empty() {
        return out;
    }
    out.push_str("| where | severity | code | finding |\n| --- | --- | --- | --- |\n");
    // Room for the closing line.
    let budget = MAX_SUMMARY_BYTES.saturating_sub(out.len() + 200);
    let mut used = 0;
    let total = rows.len();
    for (i, row) in rows.into_iter().enumerate() {
        if used + row.len() > budget {
            out.push_str(&format!(
                "\n{} not listed: a step summary holds at most 1 MiB; the SARIF or JSON report has every one.\n",
                plural(total - i, "more finding is", "more findings are")
            ));
            return out;
        }
        used += row.len();
        out.push_str(&row);
    }
    out
}

/// Appends the job summary to the file GitHub names in `$GITHUB_STEP_SUMMARY`.
pub fn append_step_summary(path: &Path, cx: &Context<'_>) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    f.write_all(step_summary(cx).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_one_command_per_line() {
        assert_eq!(data("50%\nnext::error::x"), "50%25%0Anext::error::x");
        assert_eq!(property("a,b:c\r"), "a%2Cb%3Ac%0D");
        assert_eq!(cell("a|b<i>\nc"), "a\\|b&lt;i&gt; c");
    }
}
