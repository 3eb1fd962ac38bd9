"""The CDK app: synthesize one stage of the maas control plane into ``cdk.out``.

Run it through the CDK CLI (``npx aws-cdk@2 deploy --all``, which reads ``cdk.json``) or
directly (``python app.py``, what ``make synth`` does): either way the context of
``cdk.json`` applies, and values given on the command line (``-c maas:stage=prod``) win.
No AWS credentials are needed to synthesize: without ``CDK_DEFAULT_ACCOUNT`` and
``CDK_DEFAULT_REGION`` the templates are environment-agnostic.

Synthesis fails, with the report on stderr, when cdk-nag finds anything unacknowledged.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk

from stacks.config import StageConfigError, read_cdk_json_context
from stacks.control_plane import build

PROJECT_ROOT = Path(__file__).resolve().parent
CDK_JSON = PROJECT_ROOT / "cdk.json"


def main() -> int:
    """Synthesize the app; 0 on success, 1 with the reason on stderr otherwise."""
    # The CLI names the output directory in CDK_OUTDIR; run directly, write where it reads.
    outdir = None if "CDK_OUTDIR" in os.environ else str(PROJECT_ROOT / "cdk.out")
    app = cdk.App(context=read_cdk_json_context(CDK_JSON), outdir=outdir)
    env = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=os.environ.get("CDK_DEFAULT_REGION"),
    )
    try:
        build(app, env=env)
        app.synth()
    except StageConfigError as exc:
        print(f"stage configuration: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        # jsii raises CDK's own errors, validation failures included, as RuntimeError.
        print(f"synthesis failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
