//! The examples in every rule's explanation are checked against the engine:
//! `explain CODE` shows a bad and a good example, and a reader who copies
//! either must see what the text promises. A bad example produces its rule's
//! finding (as written, or inside an otherwise typical config); a good one,
//! put into that config, adds no finding of the rule.

use serde_json::Value;

use super::engine::{lint, LintConfig};
use crate::rules::{all_rules, Rule};
use crate::Target;

/// A typical config for the examples to be put into: every namespace, a
/// seccomp policy, the usual mounts. It has findings of its own (Proxmox
/// drops `noNewPrivileges`, replaces its seccomp policy); the checks compare
/// with them.
const BASE: &str = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"hostname":"web","process":{"cwd":"/","args":["/usr/bin/server","--port","8080"],"env":["PATH=/usr/local/bin:/usr/bin:/bin"],"noNewPrivileges":true,"capabilities":{"bounding":["CAP_CHOWN","CAP_NET_BIND_SERVICE"],"effective":["CAP_CHOWN","CAP_NET_BIND_SERVICE"],"permitted":["CAP_CHOWN","CAP_NET_BIND_SERVICE"]}},"mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}],"linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"},{"type":"user"}],"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"}]},"readonlyPaths":["/proc/sys"]}}"#;

/// Bad cases that cannot be written as a short JSON text (bytes, sizes,
/// counts) and are described in words instead.
const DESCRIBED: &[&str] = &[
    "parse/empty",
    "parse/invalid-utf8",
    "parse/too-deep",
    "pve/too-many",
    "pve/config-too-large",
];

/// The fenced blocks of a piece of Markdown, with their language.
fn blocks(markdown: &str) -> Vec<(&str, &str)> {
    markdown
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|b| b.split_once('\n').unwrap_or((b, "")))
        .collect()
}

/// The "## Example" section, split at "Use instead" into the bad and the good part.
fn example(rule: &Rule) -> Option<(&'static str, &'static str)> {
    let (_, section) = rule.explanation.split_once("## Example\n")?;
    let section = section.split("\n\n## ").next().unwrap_or(section);
    section.split_once("Use instead")
}

/// Objects are merged key by key; anything else replaces what was there.
fn merge(base: &mut Value, part: &Value) {
    match (base, part) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn config_for(rule: &Rule) -> LintConfig {
    // The version example is about a node older than the default target.
    let target = if rule.code == crate::rules::pve::VERSION.code {
        Target::default()
            .with_pve_release("9.0")
            .unwrap_or_else(|e| panic!("{e}"))
    } else {
        Target::default()
    };
    LintConfig {
        target,
        ..LintConfig::default()
    }
}

/// How many findings of the rule the text has.
fn count(rule: &Rule, text: &str) -> usize {
    lint("example.json", text.as_bytes(), &config_for(rule))
        .findings
        .iter()
        .filter(|d| d.code() == rule.code)
        .count()
}

/// The example put into [`BASE`], or why it cannot be.
fn in_base(json: &str) -> Result<String, String> {
    let part: Value = serde_json::from_str(json).map_err(|e| format!("not JSON ({e}): {json}"))?;
    let mut doc: Value = serde_json::from_str(BASE).map_err(|e| e.to_string())?;
    merge(&mut doc, &part);
    serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())
}

#[test]
fn every_explanation_has_a_bad_and_a_good_example() {
    let mut missing = Vec::new();
    for rule in all_rules() {
        let Some((bad, good)) = example(rule) else {
            missing.push(format!("{}: no \"Use instead\" in its Example", rule.code));
            continue;
        };
        if !DESCRIBED.contains(&rule.code) && !blocks(bad).iter().any(|(lang, _)| *lang == "json") {
            missing.push(format!(
                "{}: no JSON block before \"Use instead\"",
                rule.code
            ));
        }
        if !blocks(good).iter().any(|(lang, _)| *lang == "json") {
            missing.push(format!(
                "{}: no JSON block after \"Use instead\"",
                rule.code
            ));
        }
        if rule.code.starts_with("spec/")
            && !rule.explanation.contains("## References\n- runtime-spec")
        {
            missing.push(format!("{}: cites no runtime-spec section", rule.code));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// `crun/…` findings come from the crun back end, not from lint; its tests
/// produce each of them.
#[test]
fn examples_do_what_the_explanations_say() {
    let base_config = |rule: &Rule| count(rule, BASE);
    let mut wrong = Vec::new();
    for rule in all_rules().filter(|r| !r.code.starts_with("crun/")) {
        let Some((bad, good)) = example(rule) else {
            continue;
        };
        for (_, json) in blocks(bad).into_iter().filter(|(lang, _)| *lang == "json") {
            // As written (a parse error, a missing field) or in a typical config.
            let found = count(rule, json) > 0
                || in_base(json).is_ok_and(|doc| count(rule, &doc) > base_config(rule));
            if !found {
                wrong.push(format!(
                    "{}: the bad example does not produce it: {json}",
                    rule.code
                ));
            }
        }
        for (_, json) in blocks(good).into_iter().filter(|(lang, _)| *lang == "json") {
            match in_base(json) {
                Ok(doc) if count(rule, &doc) <= base_config(rule) => {}
                Ok(_) => wrong.push(format!(
                    "{}: the good example still produces it: {json}",
                    rule.code
                )),
                Err(e) => wrong.push(format!("{}: good example {e}", rule.code)),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
