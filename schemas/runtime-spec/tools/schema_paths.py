"""Walk a bundled runtime-spec config schema and list its property paths.

A path is a JSON pointer into a config.json, with "*" standing for any array item
(`items`) or any map value (`additionalProperties` / `patternProperties`), e.g.
/process/args/*, /linux/sysctl/*, /mounts/*/options/*.

For every path the walk records the JSON types the schema allows there and the
definition the value comes from (the last "$ref" followed), which names the
integer width or enum (defs.uint64, defs-linux.SeccompAction, ...).
"""
import json

REF_PREFIX = '#/definitions/'


class PathInfo:
    def __init__(self):
        self.types = set()
        self.defs = set()
        self.enum = None
        self.required = False

    def type_text(self):
        types = sorted(self.types) or ['any']
        text = '|'.join(types)
        notes = []
        if self.enum is not None:
            vals = self.enum
            notes.append('enum: ' + ', '.join(map(str, vals)) if len(vals) <= 6
                         else f'enum of {len(vals)} values')
        if self.defs:
            notes.append(', '.join(sorted(self.defs)))
        return text + (f' ({"; ".join(notes)})' if notes else '')


def _types(node):
    t = node.get('type')
    if isinstance(t, list):
        return set(t)
    if isinstance(t, str):
        return {t}
    if 'enum' in node:
        return {type_name(v) for v in node['enum']}
    return set()


def type_name(value):
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'number'
    if isinstance(value, str):
        return 'string'
    return type(value).__name__


def walk_schema(schema):
    """Return {path: PathInfo} for every property path the schema describes."""
    definitions = schema.get('definitions', {})
    out = {}

    def info(path):
        return out.setdefault(path, PathInfo())

    def walk(node, path, seen, via_def=None, required=False):
        if not isinstance(node, dict):
            return
        if '$ref' in node:
            ref = node['$ref']
            if not ref.startswith(REF_PREFIX):
                raise ValueError(f'{path}: non-local $ref {ref}; walk a bundled schema')
            name = ref[len(REF_PREFIX):]
            if name in seen:
                return
            walk(definitions[name], path, seen | {name}, via_def=name, required=required)
            return
        if path:
            i = info(path)
            i.types |= _types(node)
            if via_def:
                i.defs.add(via_def)
            if 'enum' in node:
                i.enum = list(node['enum'])
            i.required = i.required or required
        for comb in ('oneOf', 'anyOf', 'allOf'):
            for alt in node.get(comb, []):
                walk(alt, path, seen, required=required)
        req = set(node.get('required', []))
        for name, sub in node.get('properties', {}).items():
            esc = name.replace('~', '~0').replace('/', '~1')
            walk(sub, f'{path}/{esc}', seen, required=name in req)
        ap = node.get('additionalProperties')
        if isinstance(ap, dict):
            walk(ap, f'{path}/*', seen)
        for sub in node.get('patternProperties', {}).values():
            walk(sub, f'{path}/*', seen)
        items = node.get('items')
        if isinstance(items, dict):
            walk(items, f'{path}/*', seen)
        elif isinstance(items, list):
            for sub in items:
                walk(sub, f'{path}/*', seen)

    walk(schema, '', frozenset())
    return out


def load(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)
