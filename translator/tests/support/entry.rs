//! The entry points the fuzz targets run, shared with the tests that replay
//! the corpus, so a fuzzer finding and its regression test execute the same
//! code. Every check panics with a message naming the broken property.

use translator::emit::{pct_conf, pve};
use translator::target::{PveContainerVersion, RootfsTarget};
use translator::{Target, Translation};

use super::lxc_split::lxc_split;
use super::pct_grammar::{self, Schema};

/// The nodes raw inputs are translated for: a current PVE 9.2 node, a 9.0
/// node (raw `lxc.init.*` keys instead of `entrypoint`), and a host-path rootfs.
pub fn fixed_targets() -> Vec<Target> {
    let old = Target {
        pve_container: PveContainerVersion::for_pve_release("9.0")
            .unwrap_or(PveContainerVersion(6, 0, 9)),
        ..Target::default()
    };
    let host_path = Target {
        rootfs: RootfsTarget::HostPath,
        bundle_dir: Some("/srv/bundles/b".into()),
        ..Target::default()
    };
    vec![Target::default(), old, host_path]
}

/// What one translation produced, in comparable form.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub diagnostics: Vec<String>,
    pub has_errors: bool,
    /// The pct.conf text, or the writer's refusal.
    pub pct_conf: Option<Result<String, String>>,
}

/// Translates and emits, checking every output invariant on the way.
pub fn translate_and_check(schema: &Schema, bytes: &[u8], target: &Target) -> Outcome {
    let t = translator::oci_to_ir("config.json", bytes, target);
    check_diagnostics(&t);
    let pct_conf = t.ir.as_ref().map(|ir| {
        if let Some(init) = &ir.init {
            let args: Vec<&str> = init.args.iter().map(|a| a.value.as_str()).collect();
            assert_eq!(
                lxc_split(&init.command.value),
                args,
                "the init command does not split back into the process args"
            );
        }
        let conf = pve::ir_to_pve(ir);
        match pct_conf::write(&conf) {
            Ok(text) => {
                if let Err(e) = pct_grammar::check(schema, &text) {
                    panic!("pct.conf breaks Proxmox's grammar: {e}\n--- pct.conf ---\n{text}");
                }
                Ok(text)
            }
            Err(e) => {
                // Too large for pmxcfs is a refusal of the input, not a bug.
                let input_refused = matches!(e, pct_conf::WriteError::TooLarge);
                assert!(
                    t.has_errors() || input_refused,
                    "the writer refused a translation that had no error diagnostic: {e}"
                );
                Err(e.to_string())
            }
        }
    });
    if let (Some(ir), false) = (&t.ir, t.has_errors()) {
        check_plan(ir, target);
        check_crun(ir, target);
    }
    Outcome {
        diagnostics: t
            .diagnostics
            .iter()
            .map(|d| d.to_json(&t.source).to_string())
            .collect(),
        has_errors: t.has_errors(),
        pct_conf,
    }
}

/// The plan back end: every `pct create` argv validates against Proxmox's
/// API parameter schema (pve-sim reads it as pve-common's `get_options`
/// does), every config line is a raw key Proxmox keeps, and the rendered
/// script is lexically safe. A plan may be refused only for a config too
/// large for pmxcfs.
fn check_plan(ir: &translator::ir::Container, target: &Target) {
    use pve_sim::conf::rawkeys::{classify, RawKeyVerdict};
    use pve_sim::getopt::CommandSpec;
    use translator::emit::plan::{ir_to_plan, shell, Action, Arg, PlanError, Var};

    let plan = match ir_to_plan(ir, target, "config.json") {
        Ok(plan) => plan,
        Err(PlanError::Config(pct_conf::WriteError::TooLarge)) => return,
        Err(e) => panic!("the plan back end refused a translation without errors: {e}"),
    };
    let schemas = match pve_sim::schema::schemas() {
        Ok(s) => s,
        Err(e) => panic!("{}", e.render()),
    };
    let fixed = [("node", target.node.clone())];
    for step in &plan.steps {
        match &step.action {
            Action::PctCreate { argv } => {
                let call: Vec<String> = argv
                    .iter()
                    .map(|a| match a {
                        Arg::Lit(s) => s.clone(),
                        Arg::Var { var: Var::Vmid } => "100".to_string(),
                        Arg::Var { var: Var::Template } => {
                            "local:vztmpl/proxmox-lxcri-1.tar.zst".to_string()
                        }
                        Arg::Var { var: Var::Bundle } => "/srv/bundle".to_string(),
                    })
                    .collect();
                let spec = CommandSpec {
                    prefix: "pct create",
                    arg_params: &["vmid", "ostemplate"],
                    fixed: &fixed,
                    file_params: &["ssh-public-keys"],
                    interactive: &["password"],
                    format_options: false,
                };
                if let Err(e) = pve_sim::cli::parse_args(
                    &schemas.create,
                    call.get(2..).unwrap_or_default(),
                    &spec,
                ) {
                    panic!("Proxmox refuses {call:?}:\n{}", e.render());
                }
            }
            Action::WriteConfigLines { lines } => {
                for line in lines {
                    assert_eq!(
                        classify(&schemas.raw_keys, "100", &line.key),
                        RawKeyVerdict::Accepted,
                        "Proxmox does not keep `{}`",
                        line.text()
                    );
                }
            }
            _ => {}
        }
    }
    let script = match shell::write(&plan) {
        Ok(s) => s,
        Err(e) => panic!("the plan script: {e}"),
    };
    let forbidden = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || translator::ir::types::BIDI_CONTROLS.contains(&c)
    };
    if let Err(e) = super::shell::check_script(&script, forbidden) {
        panic!("plan.sh is not lexically safe: {e}\n--- plan.sh ---\n{script}");
    }
}

/// The crun back end: its config reads back as a runtime spec without an
/// error, and rendering it twice gives the same bytes.
fn check_crun(ir: &translator::ir::Container, target: &Target) {
    let crun = translator::emit::crun::ir_to_crun(ir, target).to_json();
    assert_eq!(
        crun,
        translator::emit::crun::ir_to_crun(ir, target).to_json(),
        "two crun configs of the same input differ"
    );
    let mut diags = Vec::new();
    let (_, spec) = translator::spec::parse("crun.json", crun.as_bytes(), &mut diags);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {:?}: {}", d.code(), d.pointer, d.message))
        .collect();
    assert!(
        spec.is_some() && errors.is_empty(),
        "the crun config does not read back as a spec: {errors:?}\n--- crun.json ---\n{crun}"
    );
}

/// Spans must lie inside the text on character boundaries, or rendering
/// them (miette, line/column) would panic or point at the wrong bytes.
fn check_diagnostics(t: &Translation) {
    let text = t.source.text();
    for d in &t.diagnostics {
        let spans = std::iter::once(d.span).chain(d.related.iter().map(|r| r.span));
        for span in spans.filter(|s| s.is_defined()) {
            assert!(
                span.start <= span.end
                    && span.end <= text.len()
                    && text.is_char_boundary(span.start)
                    && text.is_char_boundary(span.end),
                "{}: span {span:?} is outside the {}-byte text or splits a character",
                d.code(),
                text.len()
            );
        }
        assert!(
            translator::rules::find(d.code()).is_some(),
            "{} is not a registered rule",
            d.code()
        );
        let _ = d.to_json(&t.source);
    }
}

/// Raw bytes → parse → lower → every emitter, for each fixed target; the
/// first target twice, which must give identical results.
pub fn raw_bytes(schema: &Schema, data: &[u8]) {
    let targets = fixed_targets();
    for (i, target) in targets.iter().enumerate() {
        let first = translate_and_check(schema, data, target);
        if i == 0 {
            let again = translate_and_check(schema, data, target);
            assert_eq!(first, again, "two translations of the same input differ");
        }
    }
}

/// The `shell_quote` fuzz target: a string through the plan script's quoting
/// helper must split back (by the independent POSIX reader in `shell`) into
/// exactly one word equal to it; a sanitised comment must stay on one line and
/// hold no control, line-separator or bidi character.
pub fn shell_quote(s: &str) {
    use translator::emit::plan::quote::{comment, quote};
    let word = quote(s);
    match super::shell::split_words(&word) {
        Ok(words) => assert_eq!(
            words,
            vec![s.to_string()],
            "quote({s:?}) = {word} reads back differently"
        ),
        Err(e) => panic!("quote({s:?}) = {word}: {e}"),
    }
    let c = comment(s);
    let forbidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    assert!(!c.chars().any(forbidden), "comment({s:?}) = {c:?}");
}

/// The replay form of `shell_quote`: libFuzzer gives `&str` targets only
/// UTF-8 inputs, so other files are skipped as it skips them.
pub fn shell_quote_bytes(_schema: &Schema, data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        shell_quote(s);
    }
}
