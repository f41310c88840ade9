//! The generic part of "nothing dropped silently": every present field whose
//! table entry says Proxmox cannot use it gets its diagnostic here, so no
//! lowering module has to remember it.

use super::Cx;
use crate::ir::Container;
use crate::spec::fields::{Field, Handling, Ty, CONFIG};
use crate::spec::Cursor;

pub(crate) fn report_unhandled(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    walk_fields(root, CONFIG, cx, ir);
}

fn walk_fields(at: &Cursor<'_>, fields: &'static [Field], cx: &mut Cx<'_>, ir: &mut Container) {
    for field in fields {
        let Some(child) = at.get(field.name) else {
            continue;
        };
        match field.handling {
            Handling::Unsupported(why) => cx.unsupported(ir, &child, why),
            Handling::Ignored(why) => cx.ignored(ir, &child, why),
            // Lowered objects can still hold fields Proxmox cannot use
            // (`process.user.umask`), so descend into them too.
            Handling::Fields | Handling::Lower => walk_ty(&child, &field.ty, cx, ir),
        }
    }
}

fn walk_ty(at: &Cursor<'_>, ty: &'static Ty, cx: &mut Cx<'_>, ir: &mut Container) {
    match ty {
        Ty::Obj(fields) => walk_fields(at, fields, cx, ir),
        Ty::Array(inner) => {
            for item in at.items() {
                walk_ty(&item, inner, cx, ir);
            }
        }
        Ty::Map(inner) => {
            for (_, _, value) in at.entries() {
                walk_ty(&value, inner, cx, ir);
            }
        }
        _ => {}
    }
}
