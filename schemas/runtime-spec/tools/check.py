#!/usr/bin/env python3
"""Local sanity check of the vendored runtime-spec schemas (not a project test).

Needs the PyPI packages `jsonschema` (>= 4.18, which brings `referencing`).
Run from anywhere: python3 schemas/runtime-spec/tools/check.py

It checks that
* every split file and every bundle is a valid draft-04 schema;
* bundled/*.json and FIELDS.md are what tools/bundle.py and tools/fields.py produce now;
* the split files (with their relative $refs resolved through a registry) and the bundle
  give the same verdicts on every fixture;
* hand-made fixtures pass or fail in exactly the families the spec says they should
  (fields that a family types reject bad values there and are ignored by older families);
* the real-tool configs under golden/ validate against the family their ociVersion selects.
Exit status 0 when all hold; 1 with a list of failures otherwise.
"""
import copy
import json
import os
import sys
import tempfile

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(ROOT))
sys.path.insert(0, HERE)
import bundle as bundler  # noqa: E402
import fields  # noqa: E402
from schema_paths import walk_schema  # noqa: E402

FAMILIES = ['1.0', '1.1', '1.2', '1.3']
ALL = set(FAMILIES)
REAL_TOOL_CASES = ['crun-spec', 'crun-spec-rootless', 'runc-spec', 'runc-spec-rootless',
                   'umoci-bundle', 'umoci-rootless', 'podman-basic', 'podman-app-volumes',
                   'podman-rootless-like']

failures = []


def fail(msg):
    failures.append(msg)


def load(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def family_for(oci_version):
    """The schema family README.md recommends for an ociVersion string, or None."""
    core, plus, build = oci_version.partition('+')
    core, dash, pre = core.partition('-')
    parts = core.split('.')
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or parts[0] != '1':
        return None
    minor = int(parts[1])
    # "-dev" (before runtime-spec #1198) and "+dev" (after) both mark development *after*
    # the named release, i.e. the next minor in the making.
    if pre == 'dev' or build == 'dev':
        minor += 1
    return f'1.{min(minor, 3)}'


def split_validator(family):
    d = os.path.join(ROOT, f'v{family}')
    base = f'file:///runtime-spec/v{family}/'
    resources = [(base + n, Resource.from_contents(load(os.path.join(d, n)), default_specification=DRAFT4))
                 for n in sorted(os.listdir(d)) if n.endswith('.json')]
    registry = Registry().with_resources(resources)
    return jsonschema.Draft4Validator({'$ref': base + 'config-schema.json'}, registry=registry)


def bundle_validator(family):
    return jsonschema.Draft4Validator(load(os.path.join(ROOT, 'bundled', f'config-schema-v{family}.json')))


def verdict(validator, instance):
    return sorted((tuple(e.absolute_path), e.validator) for e in validator.iter_errors(instance))


BASE = {
    'ociVersion': '1.0.2',
    'process': {'terminal': False, 'user': {'uid': 0, 'gid': 0}, 'args': ['/bin/sh'],
                'env': ['PATH=/usr/bin:/bin'], 'cwd': '/',
                'capabilities': {'bounding': ['CAP_KILL'], 'effective': ['CAP_KILL']},
                'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024}],
                'noNewPrivileges': True},
    'root': {'path': 'rootfs', 'readonly': True},
    'hostname': 'ct',
    'mounts': [{'destination': '/proc', 'type': 'proc', 'source': 'proc'}],
    'linux': {'namespaces': [{'type': 'pid'}, {'type': 'mount'}],
              'resources': {'memory': {'limit': 536870912}, 'pids': {'limit': 100}},
              'sysctl': {'net.ipv4.ip_forward': '1'},
              'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO',
                          'syscalls': [{'names': ['kexec_load'], 'action': 'SCMP_ACT_ERRNO'}]}},
}


def with_(path, value):
    """BASE with the value at a slash path set (parents created)."""
    doc = copy.deepcopy(BASE)
    node = doc
    parts = path.strip('/').split('/')
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return doc


# (name, instance, families where it must validate)
FIXTURES = [
    ('base config', BASE, ALL),
    ('minimal: ociVersion only', {'ociVersion': '1.0.0'}, ALL),
    ('missing ociVersion', {'root': {'path': 'rootfs'}}, set()),
    ('negative uid', with_('/process/user/uid', -1), set()),
    ('uid above uint32', with_('/process/user/uid', 4294967296), set()),
    ('mounts is an object', with_('/mounts', {'destination': '/x'}), set()),
    ('unknown namespace type', with_('/linux/namespaces/0', {'type': 'bogus'}), set()),
    ('unknown top-level field is allowed', with_('/x-vendor', {'anything': 1}), ALL),
    ('sysctl value not a string', with_('/linux/sysctl', {'kernel.msgmax': 1}), set()),
    # time namespace and timeOffsets: 1.1.0
    ('time namespace', with_('/linux/namespaces/1', {'type': 'time'}), {'1.1', '1.2', '1.3'}),
    ('timeOffsets secs as string', with_('/linux/timeOffsets', {'boottime': {'secs': '1'}}), {'1.0'}),
    # seccomp additions of 1.1.0
    ('SCMP_ACT_KILL_PROCESS', with_('/linux/seccomp/defaultAction', 'SCMP_ACT_KILL_PROCESS'), {'1.1', '1.2', '1.3'}),
    ('SCMP_ACT_NOTIFY', with_('/linux/seccomp/defaultAction', 'SCMP_ACT_NOTIFY'), {'1.1', '1.2', '1.3'}),
    ('defaultErrnoRet negative', with_('/linux/seccomp/defaultErrnoRet', -1), {'1.0'}),
    ('listenerPath not a string', with_('/linux/seccomp/listenerPath', 7), {'1.0'}),
    # process.scheduler / ioPriority: 1.1.0
    ('scheduler valid', with_('/process/scheduler', {'policy': 'SCHED_FIFO', 'priority': 10}), ALL),
    ('scheduler bad policy', with_('/process/scheduler', {'policy': 'SCHED_BOGUS'}), {'1.0'}),
    ('ioPriority missing class', with_('/process/ioPriority', {'priority': 4}), {'1.0'}),
    ('unified not a map of strings', with_('/linux/resources/unified', {'memory.max': 5}), {'1.0'}),
    ('cpu idle not an integer', with_('/linux/resources/cpu/idle', 'yes'), {'1.0'}),
    ('mount idmap missing hostID', with_('/mounts/0/uidMappings', [{'containerID': 0, 'size': 1}]), {'1.0'}),
    ('domainname not a string', with_('/domainname', 5), {'1.0'}),
    # execCPUAffinity: 1.2.1
    ('execCPUAffinity valid', with_('/process/execCPUAffinity', {'initial': '0-3', 'final': '0,2'}), ALL),
    ('execCPUAffinity bad pattern', with_('/process/execCPUAffinity', {'initial': 'all'}), {'1.0', '1.1'}),
    # 1.3.0 additions
    ('netDevices valid', with_('/linux/netDevices', {'eth1': {'name': 'net0'}}), ALL),
    ('netDevices name not a string', with_('/linux/netDevices', {'eth1': {'name': 5}}), {'1.0', '1.1', '1.2'}),
    ('memoryPolicy bad mode', with_('/linux/memoryPolicy', {'mode': 'MPOL_BOGUS'}), {'1.0', '1.1', '1.2'}),
    ('memoryPolicy valid', with_('/linux/memoryPolicy', {'mode': 'MPOL_INTERLEAVE', 'nodes': '0-1'}), ALL),
    ('intelRdt.schemata not an array', with_('/linux/intelRdt', {'schemata': 'L3:0=ff'}), {'1.0', '1.1', '1.2'}),
    ('intelRdt.enableMonitoring not a boolean', with_('/linux/intelRdt', {'enableMonitoring': 'yes'}), {'1.0', '1.1', '1.2'}),
    ('intelRdt.enableCMT not a boolean', with_('/linux/intelRdt', {'enableCMT': 'yes'}), {'1.0', '1.3'}),
    # local fixes (README "Local changes")
    ('vm.hwConfig.irqs valid', with_('/vm', {'hypervisor': {'path': '/usr/bin/qemu'}, 'kernel': {'path': '/k'},
                                             'hwConfig': {'irqs': [1, 2], 'iomems': [{'firstGFN': 1, 'firstMFN': 2, 'nrMFNs': 3}]}}), ALL),
    ('vm.hwConfig.irqs negative', with_('/vm', {'hypervisor': {'path': '/usr/bin/qemu'}, 'kernel': {'path': '/k'},
                                                'hwConfig': {'irqs': [-1]}}), {'1.0', '1.1', '1.2'}),
    ('windows cpu affinity array', {'ociVersion': '1.2.1', 'windows': {'layerFolders': ['C:\\l'],
                                    'resources': {'cpu': {'affinity': [{'mask': 3, 'group': 0}]}}}}, ALL),
    ('windows cpu affinity object', {'ociVersion': '1.2.1', 'windows': {'layerFolders': ['C:\\l'],
                                     'resources': {'cpu': {'affinity': {'mask': 3, 'group': 0}}}}}, {'1.0', '1.1'}),
]


def check_generated():
    for fam in FAMILIES:
        want = bundler.bundle(os.path.join(ROOT, f'v{fam}'))
        have = load(os.path.join(ROOT, 'bundled', f'config-schema-v{fam}.json'))
        if want != have:
            fail(f'bundled/config-schema-v{fam}.json is stale: rerun tools/bundle.py')
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'FIELDS.md')
        fields.main(['fields.py', out])
        with open(out, encoding='utf-8') as a, open(os.path.join(ROOT, 'FIELDS.md'), encoding='utf-8') as b:
            if a.read() != b.read():
                fail('FIELDS.md is stale: rerun tools/fields.py')


def check_meta_schemas():
    for fam in FAMILIES:
        d = os.path.join(ROOT, f'v{fam}')
        for n in sorted(os.listdir(d)):
            if n.endswith('.json'):
                try:
                    jsonschema.Draft4Validator.check_schema(load(os.path.join(d, n)))
                except jsonschema.SchemaError as e:
                    fail(f'v{fam}/{n}: not a draft-04 schema: {e.message}')
        try:
            jsonschema.Draft4Validator.check_schema(load(os.path.join(ROOT, 'bundled', f'config-schema-v{fam}.json')))
        except jsonschema.SchemaError as e:
            fail(f'bundle v{fam}: not a draft-04 schema: {e.message}')


def main():
    check_generated()
    check_meta_schemas()
    validators = {f: (split_validator(f), bundle_validator(f)) for f in FAMILIES}
    counts = {'fixture verdicts': 0, 'real-tool configs': 0}
    for name, inst, expect in FIXTURES:
        for fam in FAMILIES:
            split_v, bundle_v = validators[fam]
            s, b = verdict(split_v, inst), verdict(bundle_v, inst)
            if s != b:
                fail(f'{name} @ {fam}: split {s} != bundle {b}')
            if (not b) != (fam in expect):
                fail(f'{name} @ {fam}: expected {"valid" if fam in expect else "invalid"}, errors: {b}')
            counts['fixture verdicts'] += 1
    for case in REAL_TOOL_CASES:
        path = os.path.join(REPO, 'golden', case, 'config.json')
        if not os.path.exists(path):
            fail(f'golden/{case}/config.json missing')
            continue
        inst = load(path)
        fam = family_for(inst.get('ociVersion', ''))
        if fam is None:
            fail(f'{case}: ociVersion {inst.get("ociVersion")!r} selects no family')
            continue
        for v in validators[fam]:
            errs = [f'{"/".join(map(str, e.absolute_path))}: {e.message}' for e in v.iter_errors(inst)]
            if errs:
                fail(f'{case} ({inst["ociVersion"]} -> {fam}): {errs[:5]}')
        counts['real-tool configs'] += 1
    for fam in FAMILIES:
        counts[f'paths v{fam}'] = len(walk_schema(load(os.path.join(ROOT, 'bundled', f'config-schema-v{fam}.json'))))
    for want, fam in [('1.0.0', '1.0'), ('1.0.2', '1.0'), ('1.0.2-dev', '1.1'), ('1.1.0-rc.1', '1.1'), ('1.1.0', '1.1'),
                      ('1.1.0+dev', '1.2'), ('1.2.1', '1.2'), ('1.3.0', '1.3'), ('1.3.0+dev', '1.3'), ('2.0.0', None), ('1.2', None)]:
        if family_for(want) != fam:
            fail(f'family_for({want!r}) = {family_for(want)!r}, want {fam!r}')
    print(', '.join(f'{k}: {v}' for k, v in counts.items()))
    if failures:
        print(f'{len(failures)} failure(s):')
        for f in failures:
            print('  ' + f)
        return 1
    print('ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
