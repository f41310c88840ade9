//! The plan as a POSIX shell script, for people to review (`--to plan-sh`).
//!
//! One handlebars template (`plan.sh.hbs`) holds every command. Values reach
//! it only through [`super::quote::quote`] (the escape function of every `{{value}}`
//! and of the `words` helper) or [`super::quote::comment`] (the `comment` helper), so
//! no value can end a quoted word or a comment. The executor applies the
//! JSON form; this script is never run by it.

use std::sync::OnceLock;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};
use serde::Serialize;
use serde_json::Value;

use super::quote::{comment, quote};
use super::{Action, Arg, Need, Plan, RootfsDir, Step, Undo, Var};
use crate::path::pve::LOCK_DIR;

const TEMPLATE: &str = include_str!("plan.sh.hbs");

/// Why the review script could not be rendered (a translator bug: the plan is valid).
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The built-in template does not compile.
    #[error("internal error: the plan script template: {0}")]
    Template(String),
    /// Rendering the plan with the template failed.
    #[error("internal error: rendering the plan script: {0}")]
    Render(String),
}

fn registry() -> Result<&'static Handlebars<'static>, ShellError> {
    static REGISTRY: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let mut hb = Handlebars::new();
            hb.set_strict_mode(true);
            hb.register_escape_fn(quote);
            hb.register_helper("comment", Box::new(comment_helper));
            hb.register_helper("words", Box::new(words_helper));
            hb.register_template_string("plan", TEMPLATE)
                .map_err(|e| e.to_string())?;
            Ok(hb)
        })
        .as_ref()
        .map_err(|e| ShellError::Template(e.clone()))
}

/// Renders the plan as a script.
pub fn write(plan: &Plan) -> Result<String, ShellError> {
    let model = Model::new(plan);
    registry()?
        .render("plan", &model)
        .map_err(|e| ShellError::Render(e.to_string()))
}

fn param<'a>(h: &'a Helper<'_>, name: &'static str) -> Result<&'a Value, RenderError> {
    h.param(0)
        .map(|p| p.value())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex(name, 0).into())
}

/// `{{comment x}}`: a value inside a `#` comment.
fn comment_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let text = match param(h, "comment")? {
        Value::String(s) => comment(s),
        other => comment(&other.to_string()),
    };
    out.write(&text)?;
    Ok(())
}

/// `{{word x}}`: one argument, a literal (quoted) or a variable (`"$vmid"`).
/// `{{words list}}`: the arguments of a list, each as `word` writes it,
/// separated by spaces (one helper call per command line, not per word).
fn words_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let Value::Array(items) = param(h, "words")? else {
        return Err(RenderErrorReason::Other("`words` takes a list of arguments".into()).into());
    };
    let words = items
        .iter()
        .map(value_word)
        .collect::<Result<Vec<_>, _>>()?;
    out.write(&words.join(" "))?;
    Ok(())
}

/// A serialized `Arg` read in place (a string is a literal, `{"var": …}` a
/// variable), without cloning and deserializing it.
fn value_word(value: &Value) -> Result<String, RenderError> {
    match value {
        Value::String(s) => Ok(quote(s)),
        other => {
            let var = other.get("var").and_then(Value::as_str).and_then(|name| {
                [Var::Vmid, Var::Template, Var::Bundle]
                    .into_iter()
                    .find(|v| v.name() == name)
            });
            match var {
                Some(var) => Ok(word(&Arg::Var { var })),
                None => Err(RenderErrorReason::Other(format!(
                    "`word` takes an argument, not {other}"
                ))
                .into()),
            }
        }
    }
}

fn word(arg: &Arg) -> String {
    match arg {
        Arg::Lit(s) => quote(s),
        // Variable names come from a closed enum, never from a config.
        Arg::Var { var } => format!("\"${}\"", var.name()),
    }
}

/// What the template sees.
#[derive(Serialize)]
struct Model<'p> {
    node: &'p str,
    pve_container: &'p str,
    source: &'p str,
    needs_bundle: bool,
    steps: Vec<StepModel<'p>>,
}

#[derive(Serialize, Default)]
struct StepModel<'p> {
    number: usize,
    op: &'static str,
    summary: String,
    sources: Vec<String>,
    needs: String,
    undo: String,
    pack: Option<Pack<'p>>,
    allocate: Option<bool>,
    pct: Option<Pct<'p>>,
    lines: Option<Lines>,
    create_config: Option<Text<'p>>,
    file: Option<File<'p>>,
    remove_template: Option<bool>,
    record: Option<Record<'p>>,
}

#[derive(Serialize)]
struct Pack<'p> {
    template_prefix: String,
    in_bundle: bool,
    dir: &'p str,
    /// An image's layers: the script shows them merged through `convert --to bundle`
    /// (a copy on disk the executor does not make: it streams the layers).
    image: Option<&'p super::ImageSource>,
}

#[derive(Serialize)]
struct Pct<'p> {
    head: Vec<&'p Arg>,
    options: Vec<Vec<&'p Arg>>,
}

#[derive(Serialize)]
struct Lines {
    lines: Vec<String>,
}

#[derive(Serialize)]
struct Text<'p> {
    text: &'p str,
}

#[derive(Serialize)]
struct File<'p> {
    path: &'p str,
    mode: String,
    content: &'p str,
}

#[derive(Serialize)]
struct Record<'p> {
    node: &'p str,
}

impl<'p> Model<'p> {
    fn new(plan: &'p Plan) -> Model<'p> {
        let needs_bundle = plan.steps.iter().any(|s| {
            matches!(
                &s.action,
                Action::PackRootfs {
                    rootfs: RootfsDir::Bundle(_),
                    ..
                }
            )
        });
        let steps = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepModel::new(i + 1, s, &plan.node))
            .collect();
        Model {
            node: &plan.node,
            pve_container: &plan.pve_container,
            source: &plan.source,
            needs_bundle,
            steps,
        }
    }
}

impl<'p> StepModel<'p> {
    fn new(number: usize, step: &'p Step, node: &str) -> StepModel<'p> {
        let mut m = StepModel {
            number,
            op: step.action.op(),
            summary: summary(&step.action),
            sources: step
                .sources
                .iter()
                .map(|s| format!("{}: {}", s.item, s.from.join(", ")))
                .collect(),
            needs: step.needs.iter().map(need).collect::<Vec<_>>().join("; "),
            undo: undo(&step.undo, node),
            ..StepModel::default()
        };
        match &step.action {
            Action::PackRootfs {
                rootfs,
                storage,
                name_prefix,
            } => {
                let (in_bundle, dir, image) = match rootfs {
                    RootfsDir::Bundle(d) => (true, d.as_str(), None),
                    RootfsDir::Path(d) => (false, d.as_str(), None),
                    RootfsDir::Image(i) => (false, "", Some(i)),
                };
                m.pack = Some(Pack {
                    template_prefix: format!("{storage}:vztmpl/{name_prefix}"),
                    in_bundle,
                    dir,
                    image,
                });
            }
            Action::AllocateVmid { .. } => m.allocate = Some(true),
            Action::PctCreate { argv } => m.pct = Some(group_options(argv)),
            Action::WriteConfigLines { lines } => {
                m.lines = Some(Lines {
                    lines: lines.iter().map(|l| l.text()).collect(),
                })
            }
            Action::CreateConfig { text } => m.create_config = Some(Text { text }),
            Action::WriteFile {
                path,
                mode,
                content,
            } => {
                m.file = Some(File {
                    path,
                    mode: mode.octal(),
                    content,
                })
            }
            Action::RemoveTemplate => m.remove_template = Some(true),
            Action::RecordState { node } => m.record = Some(Record { node }),
        }
        m
    }
}

/// One line per `--option value…`, for reading; the words are the argv as it is.
fn group_options(argv: &[Arg]) -> Pct<'_> {
    let is_option = |a: &Arg| matches!(a, Arg::Lit(s) if s.starts_with("--"));
    let split = argv.iter().position(is_option).unwrap_or(argv.len());
    let (head, rest) = argv.split_at(split);
    let mut options: Vec<Vec<&Arg>> = Vec::new();
    for arg in rest {
        match options.last_mut() {
            Some(group) if !is_option(arg) => group.push(arg),
            _ => options.push(vec![arg]),
        }
    }
    Pct {
        head: head.iter().collect(),
        options,
    }
}

fn summary(action: &Action) -> String {
    match action {
        Action::PackRootfs { rootfs: RootfsDir::Image(i), storage, .. } => format!("Packs the layers of the image {} into a container template on storage {storage}, every blob checked against its digest; sets $template.", i.reference),
        Action::PackRootfs { storage, .. } => format!("Packs the root file system into a container template on storage {storage}; sets $template."),
        Action::AllocateVmid { attempts } => format!(
            "Takes a free container id; sets $vmid. The id is not reserved: when pct create finds it taken, the executor allocates again ({attempts} attempts in all)."
        ),
        Action::PctCreate { .. } => "Creates the container from the template with every key pct can set.".into(),
        Action::WriteConfigLines { .. } => "Appends what pct cannot set (environment, raw lxc.* keys) under Proxmox's config lock.".into(),
        Action::CreateConfig { .. } => "Creates the container's config; its root file system is a host directory, used as it is.".into(),
        Action::WriteFile { path, .. } => format!("Writes {path}, which the container's config refers to."),
        Action::RemoveTemplate => "Removes the template: the container has its own copy of the files.".into(),
        Action::RecordState { .. } => "Reports the new container (the executor records it in its state store).".into(),
    }
}

fn need(n: &Need) -> String {
    match n {
        Need::Program(p) => format!("program {p}"),
        Need::Root(why) => format!("root ({why})"),
        Need::Storage { id, content } => format!("storage {id} with content {content}"),
        Need::Quorum => "quorum (a writable /etc/pve)".into(),
        Need::ConfigLock => "Proxmox's config lock of the container".into(),
        Need::StateStore => "the executor's state store".into(),
        Need::Directory(path) => {
            format!("directory {path} on the node (a bind mount point's source)")
        }
    }
}

/// What the executor does for each undo kind, as the command it amounts to
/// (executor/src/apply/rollback.rs `undo`, one arm per kind). The executor
/// derives the kind from the step, not from this text or the plan's field;
/// `destroy-ct` and `remove-config` act only on a container whose config
/// still carries the identity stamp this create wrote
/// (executor/src/pve/identity.rs `destroy_if_ours`, `remove_config_if_ours`).
fn undo(u: &Undo, node: &str) -> String {
    match u {
        Undo::Nothing(why) => format!("nothing: {why}"),
        // The executor wrote the template to the path `pvesm path` gave it, and removes that file.
        Undo::FreeTemplate => "rm -f -- \"$(pvesm path \"$template\")\"".into(),
        Undo::DestroyCt => "pct destroy \"$vmid\" --purge (only if CT $vmid carries this create's identity stamp)".into(),
        Undo::RemoveConfig => format!(
            "flock \"{LOCK_DIR}/pve-config-$vmid.lock\" rm -f -- /etc/pve/nodes/{}/lxc/\"$vmid\".conf (only if it carries this create's identity stamp)",
            quote(node)
        ),
        Undo::RemoveFileIfCreated(path) => format!("rm -f -- {} (only if this step created it)", quote(path)),
        Undo::ReleaseVmid => "nothing on the node: the id was not reserved".into(),
        Undo::ForgetState => "the executor removes its state record".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::plan::ir_to_plan;
    use crate::path::pve::CONFIG_DIR;
    use crate::target::Target;

    #[test]
    fn template_interpolates_only_through_the_quoting_helpers() {
        assert!(
            !TEMPLATE.contains("{{{") && !TEMPLATE.contains("{{&"),
            "raw interpolation bypasses the quoting function"
        );
        assert!(TEMPLATE.contains(&format!("{LOCK_DIR}/pve-config-$vmid.lock")));
        assert!(TEMPLATE.contains(&format!("\"{CONFIG_DIR}/$vmid.conf\"")));
    }

    #[test]
    fn renders_a_plan() {
        let json = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hostname": "web",
            "process": {"cwd": "/srv", "args": ["/app", "it's"], "env": ["A=$(id)"]},
            "linux": {"namespaces": [{"type": "user"}, {"type": "network"}]}}"#;
        let target = Target::default();
        let t = crate::oci_to_ir("config.json", json.as_bytes(), &target);
        let ir = t.ir.unwrap_or_default();
        let plan = ir_to_plan(&ir, &target, "config.json").unwrap_or_else(|e| panic!("{e}"));
        let sh = write(&plan).unwrap_or_else(|e| panic!("{e}"));
        assert!(sh.starts_with("#!/bin/sh\n"), "{sh}");
        assert!(sh.contains("\nset -eu\n"), "{sh}");
        assert!(
            sh.contains("'pct' 'create' \"$vmid\" \"$template\" \\\n    '--arch' 'amd64' \\\n"),
            "{sh}"
        );
        assert!(sh.contains("'--entrypoint' '/app it'\\''s' \\\n"), "{sh}");
        assert!(
            sh.contains(" \\\n    'lxc.environment.runtime: A=$(id)' \\\n"),
            "{sh}"
        );
        assert!(sh.contains(": \"${BUNDLE:?"), "{sh}");
        assert!(sh.contains("--directory \"$BUNDLE\"/'rootfs' .\n"), "{sh}");
    }
}
