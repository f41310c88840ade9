//! The parsed [`Tree`] as an instance the `jsonschema` crate validates in
//! place (its `Json` representation trait, `jsonschema::options_for`), so
//! `lint` checks the runtime-spec JSON Schema without converting the whole
//! document to a `serde_json::Value` (which costs several times the input).
//!
//! The schema sees the document as written ([`View::Written`]): the later of
//! duplicate keys, nothing removed. Numbers are read as serde_json reads them
//! (so `1e400`, which serde_json cannot hold, is `null` as before).
//!
//! Error messages are the crate's own, which quote the failing value; for a
//! value larger than [`EXACT_UP_TO`] bytes the quoted value is a prefix
//! (the first items and characters, about [`PREVIEW_CHARS`] of them), which
//! is more than the lint message keeps (`schema::check` shortens messages to
//! 200 characters), so messages read the same while a failing 100 MB array is
//! never copied.

use std::borrow::Cow;

use jsonschema::json::{cmp, Array, Json, Node, NodeIdentity, Object};
use jsonschema::JsonType;
use serde_json::Value;

use crate::json::{number_to_serde, Kind, Members, NodeId, Tree, View};

/// Values up to this many bytes of input are quoted whole in messages.
pub(crate) const EXACT_UP_TO: usize = 64 * 1024;
/// How much of a larger value a message quotes, in characters at least.
pub(crate) const PREVIEW_CHARS: usize = 1024;

pub(crate) struct TreeJson;

/// A value of the tree, or a free-standing string (a property name the
/// validator checks against `propertyNames`).
#[derive(Clone, Copy)]
pub(crate) enum TreeNode<'a> {
    At(&'a Tree, NodeId),
    Name(&'a str),
}

impl TreeNode<'_> {
    pub(crate) fn root(tree: &Tree) -> TreeNode<'_> {
        TreeNode::At(tree, tree.root())
    }
}

impl Json for TreeJson {
    type Node<'a> = TreeNode<'a>;
    type PreparedKey = String;
    type StringBuffer = ();

    // Parents come strictly before their children in the tree.
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>((): &mut (), string: &str, f: impl FnOnce(TreeNode<'_>) -> T) -> T {
        f(TreeNode::Name(string))
    }
}

/// What the validator sees a node as: its kind, with numbers serde_json
/// cannot read as null (as the serde_json instance the check used before had it).
fn kind(tree: &Tree, id: NodeId) -> Kind {
    match tree.kind(id, View::Written) {
        Kind::Number if tree.number(id).and_then(number_to_serde).is_none() => Kind::Null,
        k => k,
    }
}

impl<'a> Node<'a, TreeJson> for TreeNode<'a> {
    type Object = TreeObject<'a>;
    type Array = TreeArray<'a>;
    type Number = serde_json::Number;

    fn as_object(&self) -> Option<TreeObject<'a>> {
        match *self {
            TreeNode::At(tree, id) if kind(tree, id) == Kind::Object => {
                Some(TreeObject { tree, id })
            }
            _ => None,
        }
    }

    fn as_array(&self) -> Option<TreeArray<'a>> {
        match *self {
            TreeNode::At(tree, id) if kind(tree, id) == Kind::Array => Some(TreeArray { tree, id }),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match *self {
            TreeNode::At(tree, id) if kind(tree, id) == Kind::String => {
                tree.str(id).map(Cow::Borrowed)
            }
            TreeNode::Name(name) => Some(Cow::Borrowed(name)),
            TreeNode::At(..) => None,
        }
    }

    fn as_number(&self) -> Option<serde_json::Number> {
        match *self {
            TreeNode::At(tree, id) => tree.number(id).and_then(number_to_serde),
            TreeNode::Name(_) => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match *self {
            TreeNode::At(tree, id) => tree.bool(id),
            TreeNode::Name(_) => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(*self, TreeNode::At(tree, id) if kind(tree, id) == Kind::Null)
    }

    fn json_type(&self) -> JsonType {
        match *self {
            TreeNode::Name(_) => JsonType::String,
            TreeNode::At(tree, id) => match kind(tree, id) {
                Kind::Null => JsonType::Null,
                Kind::Bool => JsonType::Boolean,
                Kind::Number => JsonType::Number,
                Kind::String => JsonType::String,
                Kind::Array => JsonType::Array,
                Kind::Object => JsonType::Object,
            },
        }
    }

    fn equals_value(&self, expected: &Value) -> bool {
        match *self {
            TreeNode::Name(name) => expected.as_str() == Some(name),
            TreeNode::At(tree, id) => match kind(tree, id) {
                Kind::String => expected.as_str() == tree.str(id),
                _ => cmp::equal(&tree.to_serde(id, View::Written), expected),
            },
        }
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(match *self {
            TreeNode::Name(name) => Value::String(name.to_string()),
            TreeNode::At(tree, id) if tree.span(id).len() <= EXACT_UP_TO => {
                tree.to_serde(id, View::Written)
            }
            TreeNode::At(tree, id) => preview(tree, id, &mut PREVIEW_CHARS.clone()),
        })
    }

    fn identity(&self) -> Option<NodeIdentity> {
        match *self {
            TreeNode::At(tree, id) => Some(NodeIdentity::tagged(
                std::ptr::from_ref(tree) as usize,
                id.index() as u32,
            )),
            TreeNode::Name(_) => None,
        }
    }
}

/// The start of a large value: items, members and characters in order
/// until about `budget` characters are taken.
fn preview(tree: &Tree, id: NodeId, budget: &mut usize) -> Value {
    match kind(tree, id) {
        Kind::Array => {
            let mut out = Vec::new();
            for item in tree.items(id) {
                if *budget == 0 {
                    break;
                }
                *budget = budget.saturating_sub(1);
                out.push(preview(tree, item, budget));
            }
            Value::Array(out)
        }
        Kind::Object => {
            let mut out = serde_json::Map::new();
            for m in tree.members(id, View::Written) {
                if *budget == 0 {
                    break;
                }
                *budget = budget.saturating_sub(m.key.chars().count() + 3);
                out.insert(m.key.to_string(), preview(tree, m.value, budget));
            }
            Value::Object(out)
        }
        Kind::String => {
            let s = tree.str(id).unwrap_or_default();
            let cut: String = s.chars().take(*budget).collect();
            *budget = budget.saturating_sub(cut.chars().count());
            Value::String(cut)
        }
        _ => {
            let v = tree.to_serde(id, View::Written);
            *budget = budget.saturating_sub(v.to_string().len());
            v
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct TreeObject<'a> {
    tree: &'a Tree,
    id: NodeId,
}

pub(crate) struct TreeMembers<'a> {
    tree: &'a Tree,
    members: Members<'a>,
}

impl<'a> Iterator for TreeMembers<'a> {
    type Item = (&'a str, TreeNode<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.members
            .next()
            .map(|m| (m.key, TreeNode::At(self.tree, m.value)))
    }
}

impl<'a> Object<'a, TreeJson> for TreeObject<'a> {
    type Node = TreeNode<'a>;
    type MemberName = &'a str;
    type MembersIter = TreeMembers<'a>;

    fn len(&self) -> usize {
        self.tree.members(self.id, View::Written).count()
    }

    fn get(&self, key: &String) -> Option<TreeNode<'a>> {
        self.tree
            .get(self.id, key, View::Written)
            .map(|m| TreeNode::At(self.tree, m.value))
    }

    fn members(&self) -> TreeMembers<'a> {
        TreeMembers {
            tree: self.tree,
            members: self.tree.members(self.id, View::Written),
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct TreeArray<'a> {
    tree: &'a Tree,
    id: NodeId,
}

pub(crate) struct TreeItems<'a> {
    tree: &'a Tree,
    items: crate::json::Items<'a>,
}

impl<'a> Iterator for TreeItems<'a> {
    type Item = TreeNode<'a>;

    fn next(&mut self) -> Option<TreeNode<'a>> {
        self.items.next().map(|id| TreeNode::At(self.tree, id))
    }
}

impl<'a> Array<'a, TreeJson> for TreeArray<'a> {
    type Node = TreeNode<'a>;
    type ElementsIter = TreeItems<'a>;

    fn len(&self) -> usize {
        self.tree.items(self.id).count()
    }

    fn elements(&self) -> TreeItems<'a> {
        TreeItems {
            tree: self.tree,
            items: self.tree.items(self.id),
        }
    }

    fn is_unique(&self) -> bool {
        let values: Vec<Value> = self
            .tree
            .items(self.id)
            .map(|item| self.tree.to_serde(item, View::Written))
            .collect();
        jsonschema::json::unique::is_unique(&values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Tree {
        crate::json::parse(text)
            .tree
            .unwrap_or_else(|| panic!("{text} parses"))
    }

    #[test]
    fn small_values_are_quoted_whole_and_large_ones_by_their_start() {
        let t = tree(r#"{"a": [1, "x", {"b": null}], "n": 1e400}"#);
        let root = TreeNode::root(&t);
        assert_eq!(
            root.to_value().to_string(),
            r#"{"a":[1,"x",{"b":null}],"n":null}"#
        );
        let big = format!("[{}\"end\"]", "\"abcdefghij\",".repeat(20_000));
        let t = tree(&big);
        let full = t.to_serde(t.root(), View::Written).to_string();
        let quoted = TreeNode::root(&t).to_value().to_string();
        assert!(quoted.len() < 2 * PREVIEW_CHARS, "{}", quoted.len());
        assert_eq!(quoted.get(..PREVIEW_CHARS), full.get(..PREVIEW_CHARS));
    }

    #[test]
    fn validates_like_the_serde_json_instance() {
        let schema = serde_json::json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer", "maximum": 5}}, "s": {"enum": ["x", "y"]}}, "required": ["r"]});
        let ours = jsonschema::options_for::<TreeJson>()
            .build(&schema)
            .unwrap_or_else(|e| panic!("{e}"));
        let theirs = jsonschema::options()
            .build(&schema)
            .unwrap_or_else(|e| panic!("{e}"));
        let text = r#"{"a": [1, 7, 2.5, -0, 1e400], "s": "z", "s": "y"}"#;
        let t = tree(text);
        let value: Value = t.to_serde(t.root(), View::Written);
        let mine: Vec<String> = ours
            .iter_errors(TreeNode::root(&t))
            .map(|e| format!("{} {e}", e.instance_path()))
            .collect();
        let reference: Vec<String> = theirs
            .iter_errors(&value)
            .map(|e| format!("{} {e}", e.instance_path()))
            .collect();
        assert_eq!(mine, reference);
        assert_eq!(mine.len(), 4, "{mine:?}");
    }
}
