//! In progress: being written by another engineer right now.

use super::Cx;
use crate::ir::Container;
use crate::spec::Cursor;

pub fn lower(_root: &Cursor<'_>, _cx: &mut Cx<'_>, _ir: &mut Container) {}
