"""deploy/k8s/ against the real Kubernetes schemas (kubernetes-validate, PyPI), strictly
(unknown fields refused), for the oldest and newest minor versions the manifests target.
A manifest broken on purpose must be refused, so the check is known to bite.

usage: validate_kubernetes.py REPOSITORY_ROOT
The last line is one JSON object: {"validated": [...], "problems": [...]}."""
import glob
import json
import os
import sys

import kubernetes_validate
import yaml

VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]


def problems_of(document, version):
    try:
        kubernetes_validate.validate(document, version, strict=True)
        return []
    except kubernetes_validate.ValidationError as error:
        return [f"{error.path}: {error.message}" if hasattr(error, "path") else str(error)]


def main(root):
    validated, problems = [], []
    for path in sorted(glob.glob(os.path.join(root, "deploy", "k8s", "*.yaml"))):
        for document in yaml.safe_load_all(open(path)):
            if not document:
                continue
            name = f"{os.path.basename(path)} {document.get('kind')}/{document.get('metadata', {}).get('name')}"
            for version in VERSIONS:
                found = problems_of(document, version)
                problems += [f"{name} ({version}): {p}" for p in found]
                validated.append(f"{name} {version}")
    broken = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "broken"},
              "spec": {"replicas": "two", "selector": {"matchLabels": {"a": "b"}},
                       "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i", "portz": 3}]}}}}
    if not problems_of(broken, VERSIONS[-1]):
        problems.append("a deliberately broken Deployment was not refused: the check does not bite")
    print(json.dumps({"validated": validated, "versions": VERSIONS, "problems": problems}))


if __name__ == "__main__":
    main(sys.argv[1])
