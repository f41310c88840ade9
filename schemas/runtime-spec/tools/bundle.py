#!/usr/bin/env python3
"""Combine one version's split runtime-spec schema files into a single self-contained file.

Usage: bundle.py SPLIT_DIR OUT_FILE

Upstream splits the config schema over config-schema.json (entry point), config-<platform>.json
and defs*.json, joined by relative "$ref"s such as "defs.json#/definitions/uint64". Resolving
those needs a base URI and a resource registry, which every consumer would have to rebuild; the
bundle needs neither. Rewriting rules (nothing else changes):

* "config-<platform>.json#/<platform>" is referenced once, from the root's "<platform>"
  property: its schema is inlined there.
* "<file>.json#/definitions/<Name>" becomes "#/definitions/<file>.<Name>", e.g.
  "defs.json#/definitions/uint64" -> "#/definitions/defs.uint64". A file-local
  "#/definitions/<Name>" inside <file>.json gets the same prefix. Prefixing by file keeps
  same-named definitions apart (defs-linux.Device, defs-windows.Device, ...).

Only the standard library is used so the script runs anywhere python3 does.
"""
import copy
import json
import os
import sys

DEF_PREFIX = '/definitions/'


def load(split_dir, name, cache):
    if name not in cache:
        with open(os.path.join(split_dir, name), encoding='utf-8') as f:
            cache[name] = json.load(f)
    return cache[name]


def pointer_get(doc, pointer):
    node = doc
    for part in [p for p in pointer.split('/') if p]:
        node = node[part.replace('~1', '/').replace('~0', '~')]
    return node


def stem(file_name):
    return file_name[:-len('.json')] if file_name.endswith('.json') else file_name


def bundle(split_dir):
    cache = {}
    entry = 'config-schema.json'
    definitions = {}
    pending = []
    inlined = set()

    def def_name(file_name, pointer):
        if not pointer.startswith(DEF_PREFIX) or '/' in pointer[len(DEF_PREFIX):]:
            raise ValueError(f'unsupported $ref target {file_name}#{pointer}')
        return stem(file_name) + '.' + pointer[len(DEF_PREFIX):]

    def rewrite(node, cur_file):
        if isinstance(node, list):
            return [rewrite(x, cur_file) for x in node]
        if not isinstance(node, dict):
            return node
        if '$ref' in node:
            target_file, _, pointer = node['$ref'].partition('#')
            target_file = target_file or cur_file
            if target_file.startswith('config-') and target_file != entry:
                key = (target_file, pointer)
                if key in inlined:
                    raise ValueError(f'{target_file}#{pointer} referenced twice; inlining would duplicate it')
                inlined.add(key)
                target = pointer_get(load(split_dir, target_file, cache), pointer)
                merged = {k: v for k, v in node.items() if k != '$ref'}
                merged.update(copy.deepcopy(target))
                return rewrite(merged, target_file)
            name = def_name(target_file, pointer)
            if name not in definitions:
                definitions[name] = None  # reserve: breaks cycles
                pending.append((name, target_file, pointer))
            out = dict(node)
            out['$ref'] = '#/definitions/' + name
            return {k: (out[k] if k == '$ref' else rewrite(v, cur_file)) for k, v in out.items()}
        return {k: rewrite(v, cur_file) for k, v in node.items()}

    root = rewrite(copy.deepcopy(load(split_dir, entry, cache)), entry)
    while pending:
        name, f, pointer = pending.pop()
        definitions[name] = rewrite(copy.deepcopy(pointer_get(load(split_dir, f, cache), pointer)), f)
    root['definitions'] = {k: definitions[k] for k in sorted(definitions)}
    return root


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    out = bundle(argv[1])
    with open(argv[2], 'w', encoding='utf-8') as f:
        json.dump(out, f, indent=4, ensure_ascii=False)
        f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
