//! Cleaning up after a create that did not finish (its process was killed, or its rollback
//! failed): the journal it left says what it may have made. The journal is read through the
//! store's checks, and its container undos destroy only a container stamped with the record's
//! identity (the journal's [`crate::apply::Journal::owner`]).

use crate::apply::{rollback, UndoAction, UndoEntry};
use crate::state::{Backend, ContainerLock, Partial};

use super::journal::{read_journal, StoreJournal};
use super::{Runtime, RuntimeError};

/// Undoes what the journal of `partial` lists (and a crun container, if one was begun). The
/// caller then removes the record. Undos that fail stay in the journal for the next attempt.
pub fn clean(
    rt: &Runtime<'_>,
    lock: &ContainerLock,
    partial: &Partial,
) -> Result<(), RuntimeError> {
    let id = lock.id();
    if matches!(
        partial.mapping.as_ref().map(|m| &m.backend),
        Some(Backend::Crun)
    ) {
        rt.crun.delete(rt.host, id, true)?;
    }
    let mut undos: Vec<UndoEntry> = read_journal(&rt.store, id)?.unwrap_or_default();
    // The record itself goes as a whole afterwards.
    undos.retain(|u| u.action != UndoAction::ForgetState);
    let bundle = partial
        .marker
        .as_ref()
        .map(|m| m.bundle.clone())
        .or_else(|| partial.mapping.as_ref().map(|m| m.bundle.clone()))
        .unwrap_or_default();
    let (token, stop_signal, node) = match &partial.mapping {
        Some(m) => (
            m.token.clone(),
            m.stop_signal.clone(),
            match &m.backend {
                Backend::Pct { node, .. } => Some(node.clone()),
                Backend::Crun => None,
            },
        ),
        None => (None, None, None),
    };
    let mut journal = StoreJournal::new(&rt.store, lock, bundle)
        .with_identity(token, stop_signal)
        .with_node(node);
    rollback(rt.host, &rt.paths, &mut journal, &mut undos).map_err(|error| RuntimeError::Recovery {
        id: id.clone(),
        error: Box::new(error),
    })
}
