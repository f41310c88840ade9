//! `rules` lists every lint rule; `explain CODE` prints one rule's long
//! explanation. Both read the translator's one rule table.

use translator::rules::{all_rules, find, Rule};

use super::{EXIT_OK, EXIT_USAGE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum RulesFormat {
    /// One line per rule: code, default severity, summary
    #[default]
    Human,
    /// A JSON array of {code, severity, summary}
    Json,
}

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// One line per rule for people, or a JSON array
    #[arg(long, value_enum, default_value_t)]
    pub format: RulesFormat,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// A rule code, as `rules` lists them (for example security/privileged)
    pub code: String,
}

pub fn run_rules(args: &RulesArgs) -> u8 {
    print!("{}", list(args.format));
    EXIT_OK
}

pub fn list(format: RulesFormat) -> String {
    let rules: Vec<&Rule> = all_rules().collect();
    match format {
        RulesFormat::Human => {
            let width = rules.iter().map(|r| r.code.len()).max().unwrap_or(0);
            rules
                .iter()
                .map(|r| {
                    format!(
                        "{:<width$}  {:<7}  {}\n",
                        r.code,
                        r.severity.as_str(),
                        r.summary
                    )
                })
                .collect()
        }
        RulesFormat::Json => {
            let list: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| serde_json::json!({"code": r.code, "severity": r.severity.as_str(), "summary": r.summary}))
                .collect();
            let mut text = serde_json::to_string_pretty(&list).unwrap_or_default();
            text.push('\n');
            text
        }
    }
}

pub fn run_explain(args: &ExplainArgs) -> u8 {
    match explain(&args.code) {
        Ok(text) => {
            print!("{text}");
            EXIT_OK
        }
        Err(message) => {
            eprintln!("proxmox-lxcri: error: {message}");
            EXIT_USAGE
        }
    }
}

/// The explanation of a code as Markdown, or why there is none.
pub fn explain(code: &str) -> Result<String, String> {
    let Some(rule) = find(code.trim()) else {
        let hint = suggest(code.trim())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| "; `proxmox-lxcri rules` lists every code".into());
        return Err(format!("`{code}` is not a rule code{hint}"));
    };
    Ok(format!(
        "# {}\n\n{}. Default severity: {}.\n\n{}\n",
        rule.code,
        rule.summary,
        rule.severity.as_str(),
        rule.explanation.trim_end()
    ))
}

fn suggest(code: &str) -> Option<&'static str> {
    // A bare name (`privileged`) is matched against the part after the family.
    if let Some(rule) =
        all_rules().find(|r| r.code.split_once('/').is_some_and(|(_, name)| name == code))
    {
        return Some(rule.code);
    }
    translator::diag::suggest(code, all_rules().map(|r| r.code))
}
