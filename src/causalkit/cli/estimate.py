"""``causalkit estimate``: fit a registered estimator on a CSV file and print the summary.

``--option KEY=VALUE`` values are parsed by the option's type as the method's
signature declares it (``causalkit methods NAME`` lists them): ``--option
interacted=no`` is ``interacted=False``, ``--option n_neighbors=abc`` is an error.

Example
-------
>>> from causalkit.cli import build_parser
>>> args = build_parser().parse_args(["estimate", "--data", "df.csv", "--treatment", "t",
...                                   "--outcome", "y", "--option", "use_t=no"])
>>> from causalkit import registry
>>> call_arguments(registry.get("difference_in_means"), args)
{'treatment': 't', 'outcome': 'y', 'use_t': False}
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import registry
from ..api import estimate
from ..errors import OptionError
from ..option_text import guess
from ..options import suggest
from ._io import method_options, parse_pairs, read_csv

#: Arguments other than roles that have their own flag, so not an --option.
_OWN_FLAGS = ("data", "method", "alpha", "dag", "estimand")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "estimate", help="estimate an effect from a CSV file",
        description="Fit a registered estimator on a CSV file and print its summary. "
                    "Example: causalkit estimate --data df.csv --treatment t --outcome y "
                    "--covariates x1 x2 --method regression_adjustment, or "
                    "--formula \"y ~ t | x1 + C(g)\" --method ipw.  "
                    "`causalkit methods NAME` lists a method's roles and options.")
    p.add_argument("--data", required=True, help="path to a CSV file (UTF-8)")
    p.add_argument("--formula", default=None, metavar="MODEL",
                   help='the whole model, e.g. "y ~ t | x1 + C(g)" (outcome ~ treatment | '
                        'covariates | instruments or unit + time); replaces --treatment, '
                        '--outcome and --covariates')
    p.add_argument("--treatment", help="treatment column")
    p.add_argument("--outcome", help="outcome column")
    p.add_argument("--method", default="difference_in_means", help="registered estimator")
    p.add_argument("--covariates", nargs="+", default=None, metavar="COLUMN",
                   help="adjustment columns (at least one)")
    p.add_argument("--weights", default=None, metavar="COLUMN",
                   help="sampling (survey) weights column, for the methods that take "
                        "weights= (`causalkit methods NAME` shows whether one does)")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--estimand", default=None, help="ATE, ATT, ... where the method offers several")
    p.add_argument("--dag", default=None, help="DAG in DAGitty syntax (adjusts for its set)")
    p.add_argument("--role", action="append", default=[], metavar="ROLE=COLUMN",
                   help="further roles, e.g. --role instrument=z --role cluster=school")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="method options, parsed by their type (booleans: true/false, 1/0, "
                        "yes/no; none for None), e.g. --option cov_type=HC1")
    p.set_defaults(func=run)


def _roles(spec: registry.EstimatorSpec, args: argparse.Namespace,
           options: dict[str, str]) -> dict[str, Any]:
    """The role keywords from --treatment/--outcome/--covariates, --role and role-named --option."""
    roles: dict[str, Any] = {}
    given = parse_pairs(args.role, "--role")
    for key in [k for k in options if k in registry.ROLE_NAMES and k not in spec.option_names]:
        if key in given:
            raise OptionError(f"the role {key} is given with both --role and --option")
        given[key] = options.pop(key)
    for key, column in given.items():
        if key not in registry.ROLE_NAMES:
            hint = suggest(key, registry.ROLE_NAMES)
            raise OptionError(f"--role {key}={column}: {key!r} is not a role"
                              + (f"; did you mean {hint!r}?" if hint else "")
                              + f" Roles: {', '.join(registry.ROLE_NAMES)}")
        roles[key] = guess(column) if key == "cutoff" else column
    for key in ("treatment", "outcome", "covariates", "weights"):
        flag = getattr(args, key)
        if flag is not None and key in roles:
            raise OptionError(f"the {key} is given twice: with --{key} and with --role {key}=")
        if flag is not None:
            roles[key] = flag
    return roles


def call_arguments(spec: registry.EstimatorSpec, args: argparse.Namespace) -> dict[str, Any]:
    """Roles and typed options for :func:`causalkit.estimate`, checked by the registry."""
    pairs = parse_pairs(args.option, "--option")
    own = [k for k in pairs if k in _OWN_FLAGS and k not in spec.option_names]
    if own:
        raise OptionError(f"--option {own[0]}=...: give {own[0]} with --{own[0]}")
    roles = _roles(spec, args, pairs)
    options = method_options(spec, pairs)
    if args.estimand is not None:
        if "estimand" in options:
            raise OptionError("the estimand is given twice: with --estimand and --option")
        options["estimand"] = args.estimand
    spec.checked_options(options)            # unknown names with a did-you-mean, up front
    return {**roles, **options}


def run(args: argparse.Namespace) -> int:
    spec = registry.get(args.method)
    kwargs = call_arguments(spec, args)
    model: tuple[str, ...] = ()
    if args.formula is not None:
        given = [f"--{k}" for k in ("treatment", "outcome", "covariates")
                 if getattr(args, k) is not None]
        if given:
            raise OptionError(f"--formula names the model; do not also give {', '.join(given)}")
        if "~" not in args.formula:
            raise OptionError(f"--formula {args.formula!r} has no '~'; write it as "
                              "\"y ~ t | x1 + x2\"")
        model = (args.formula,)
    data = read_csv(args.data)
    effect = estimate(data, *model, method=spec.name, alpha=args.alpha, dag=args.dag, **kwargs)
    print(effect.summary())
    return 0
