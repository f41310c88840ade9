//! The one diagnostic type: a stable code from the rule registry, a severity,
//! the JSON pointer and byte span it is about, a message and help.

use std::fmt;

use crate::rules::Rule;
use crate::source::{JsonPointer, Source, Span};

/// How serious a finding is; ordered, so `>=` compares against a deny level.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Info,
    /// Likely a problem, but the config is still translated.
    Warning,
    /// Refused: nothing is emitted for the config.
    Error,
}

impl Severity {
    /// The lower-case name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// The severity a lower-case name denotes (`info`, `warning`, `error`).
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary place the diagnostic is also about (the first of two duplicate keys, say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// The secondary place.
    pub span: Span,
    /// What to say at it.
    pub label: String,
}

/// One finding: a stable code from the rule registry, a severity, where it is (JSON pointer
/// and byte span), and what to tell the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule whose code and explanation this finding carries.
    pub rule: &'static Rule,
    /// How serious; the rule's default unless a stage changed it.
    pub severity: Severity,
    /// The one-line message.
    pub message: String,
    /// The input the finding is about, when it is about a field.
    pub pointer: Option<JsonPointer>,
    /// The bytes of the input to underline; undefined for synthesised values.
    pub span: Span,
    /// The text at the underline.
    pub label: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
    /// Other places the finding is also about.
    pub related: Vec<Related>,
    /// How many more findings like this one were left out by the per-code cap
    /// ([`MAX_PER_CODE`]); 0 for an ordinary finding. Reports say it.
    pub omitted: usize,
}

impl Diagnostic {
    /// A diagnostic with the rule's default severity.
    pub fn new(rule: &'static Rule, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            rule,
            severity: rule.severity,
            message: message.into(),
            pointer: None,
            span: Span::UNDEFINED,
            label: None,
            help: None,
            related: Vec::new(),
            omitted: 0,
        }
    }

    /// The stable code (`pve/unsupported-field`, …) of the rule.
    pub fn code(&self) -> &'static str {
        self.rule.code
    }

    /// The finding placed at a field of the input.
    pub fn at(mut self, pointer: &JsonPointer, span: Span) -> Diagnostic {
        self.pointer = Some(pointer.clone());
        self.span = span;
        self
    }

    pub(crate) fn at_span(mut self, span: Span) -> Diagnostic {
        self.span = span;
        self
    }

    /// The finding with a label for the underline.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push(Related {
            span,
            label: label.into(),
        });
        self
    }

    pub(crate) fn with_severity(mut self, severity: Severity) -> Diagnostic {
        self.severity = severity;
        self
    }

    /// Whether the finding refuses the config.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Attaches the source so miette can render the diagnostic with its snippet.
    pub fn with_source<'a>(&'a self, source: &'a Source) -> SourcedDiagnostic<'a> {
        SourcedDiagnostic { diag: self, source }
    }

    /// One JSON object, the machine form of `--format json`.
    pub fn to_json(&self, source: &Source) -> serde_json::Value {
        let (line, column) = if self.span.is_defined() {
            source.line_col(self.span.start)
        } else {
            (0, 0)
        };
        let mut obj = serde_json::Map::new();
        obj.insert("file".into(), source.name().into());
        obj.insert("code".into(), self.code().into());
        obj.insert("severity".into(), self.severity.as_str().into());
        obj.insert(
            "pointer".into(),
            self.pointer.as_ref().map(|p| p.as_str().to_string()).into(),
        );
        if self.span.is_defined() {
            obj.insert("line".into(), line.into());
            obj.insert("column".into(), column.into());
            obj.insert(
                "span".into(),
                serde_json::json!({"start": self.span.start, "end": self.span.end}),
            );
        } else {
            obj.insert("line".into(), serde_json::Value::Null);
            obj.insert("column".into(), serde_json::Value::Null);
            obj.insert("span".into(), serde_json::Value::Null);
        }
        obj.insert("message".into(), self.message.clone().into());
        obj.insert("help".into(), self.help.clone().into());
        serde_json::Value::Object(obj)
    }
}

/// Orders diagnostics by position, then code, so output never depends on the
/// order in which lowering modules ran.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.span.start, a.span.end, a.code(), &a.message).cmp(&(
            b.span.start,
            b.span.end,
            b.code(),
            &b.message,
        ))
    });
}

/// How many diagnostics of one code a run keeps; the rest of that code are
/// summarised in one diagnostic with their count. A config of a million
/// unknown fields would otherwise cost a diagnostic (some 200 bytes) for
/// every few bytes of input (README, "Memory").
pub const MAX_PER_CODE: usize = 1000;

/// A diagnostic list that keeps at most [`MAX_PER_CODE`] of each code.
/// [`Capped::finish`] adds, for each code that went over, one diagnostic
/// at the first one left out, with the most severe severity of those left
/// out (an error stays an error) and their count.
pub(crate) struct Capped<'a> {
    diags: &'a mut Vec<Diagnostic>,
    seen: std::collections::HashMap<&'static str, usize>,
    /// Per code that went over: the first one left out, with the severity and count of all left out.
    over: Vec<(Diagnostic, usize)>,
}

impl<'a> Capped<'a> {
    pub(crate) fn new(diags: &'a mut Vec<Diagnostic>) -> Capped<'a> {
        Capped {
            diags,
            seen: std::collections::HashMap::new(),
            over: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        let n = self.seen.entry(d.code()).or_default();
        *n += 1;
        if *n <= MAX_PER_CODE {
            self.diags.push(d);
        } else if let Some((first, count)) =
            self.over.iter_mut().find(|(f, _)| f.code() == d.code())
        {
            *count += 1;
            first.severity = first.severity.max(d.severity);
        } else {
            self.over.push((d, 1));
        }
    }

    pub(crate) fn finish(self) {
        for (first, count) in self.over {
            let code = first.code();
            let mut summary = Diagnostic::new(
                first.rule,
                format!("{count} more `{code}` diagnostics like the {MAX_PER_CODE} above are not shown; the first of them: {}", first.message),
            )
            .with_severity(first.severity)
            .at_span(first.span)
            .with_help(format!("at most {MAX_PER_CODE} diagnostics of one code are kept"));
            summary.pointer = first.pointer;
            summary.omitted = count;
            self.diags.push(summary);
        }
    }
}

/// Keeps at most [`MAX_PER_CODE`] diagnostics of each code, in their order,
/// and summarises the rest ([`Capped`]).
pub(crate) fn cap(diags: &mut Vec<Diagnostic>) {
    if diags.len() <= MAX_PER_CODE {
        return;
    }
    let all = std::mem::take(diags);
    let mut capped = Capped::new(diags);
    for d in all {
        capped.push(d);
    }
    capped.finish();
}

pub(crate) fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// A diagnostic plus its source text: what miette renders.
pub struct SourcedDiagnostic<'a> {
    diag: &'a Diagnostic,
    source: &'a Source,
}

/// Lines longer than this (minified JSON, as podman writes) are not quoted:
/// miette would print the whole line for every diagnostic.
const MAX_SNIPPET_LINE: usize = 240;

impl SourcedDiagnostic<'_> {
    /// Whether the diagnostic can be shown with its source snippet.
    fn has_snippet(&self) -> bool {
        if !self.diag.span.is_defined() {
            return false;
        }
        // Bounded: a 200 MB config on one line is not scanned per diagnostic.
        self.source
            .line_is_at_most(self.diag.span.start, MAX_SNIPPET_LINE)
    }

    /// `file:line:column` of the span, for diagnostics shown without a snippet.
    fn location(&self) -> Option<String> {
        if !self.diag.span.is_defined() {
            return None;
        }
        let (line, col) = self.source.line_col(self.diag.span.start);
        Some(format!("{}:{line}:{col}", self.source.name()))
    }
}

impl fmt::Debug for SourcedDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for SourcedDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for SourcedDiagnostic<'_> {}

impl miette::Diagnostic for SourcedDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let mut at = self
            .diag
            .pointer
            .as_ref()
            .filter(|p| !p.as_str().is_empty())
            .map(|p| p.to_string());
        if !self.has_snippet() {
            if let Some(loc) = self.location() {
                at = Some(match at {
                    Some(p) => format!("{p} ({loc})"),
                    None => loc,
                });
            }
        }
        match (&self.diag.help, at) {
            (Some(h), Some(p)) => Some(Box::new(format!("{h}\nat {p}"))),
            (Some(h), None) => Some(Box::new(h.clone())),
            (None, Some(p)) => Some(Box::new(format!("at {p}"))),
            (None, None) => None,
        }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.has_snippet() {
            Some(self)
        } else {
            None
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if !self.has_snippet() {
            return None;
        }
        let main = miette::LabeledSpan::new_primary_with_span(
            self.diag.label.clone(),
            (self.diag.span.start, self.diag.span.len()),
        );
        let related = self
            .diag
            .related
            .iter()
            .filter(|r| r.span.is_defined())
            .map(|r| {
                miette::LabeledSpan::new_with_span(
                    Some(r.label.clone()),
                    (r.span.start, r.span.len()),
                )
            });
        Some(Box::new(std::iter::once(main).chain(related)))
    }
}

// miette reads the source through this trait; delegating keeps the file name.
impl miette::SourceCode for SourcedDiagnostic<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        let contents =
            self.source
                .text()
                .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.source.name().to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}
/// The closest candidate within a small edit distance, for "did you mean".
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = sub.min(del).min(ins);
            }
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}
