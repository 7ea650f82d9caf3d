"""``gongzhi triage``: train, evaluate, cross-validate, list and activate classifiers.

    gongzhi triage train --data FILE [--name NAME] [--recipe NAME] [--cv-repeats 1]
    gongzhi triage evaluate --data FILE [--model VERSION] [--json]
    gongzhi triage cv --data FILE [--folds 5] [--repeats 3] [--recipe NAME] [--ungrouped] [--json]
    gongzhi triage activate VERSION
    gongzhi triage list [--json]
    gongzhi triage recipes
    gongzhi triage hot-issues --data FILE [--top 10] [--min-size 1] [--json]
    gongzhi triage replies --data FILE [--folds 5] [--repeats 3] [--json]

A model's ID is its version number (1, 2, ...), shown by ``train`` and ``list``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError
from gongzhi.triage import queries, services
from gongzhi.triage.crossval import cross_validate
from gongzhi.triage.dataset import parse_labelled, read_labelled
from gongzhi.triage.evaluation import evaluate
from gongzhi.triage.queries import registered_models
from gongzhi.triage.recipes import DEFAULT, RECIPES


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


class Command(BaseCommand):
    help = "Train, evaluate, cross-validate and activate the message classifier."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        train = sub.add_parser("train", help="Train a model and register it (inactive).")
        source = train.add_mutually_exclusive_group(required=True)
        source.add_argument("--data", help="CSV file of labelled messages")
        source.add_argument(
            "--from-cases",
            action="store_true",
            help="train on the categories dispatchers chose for registered cases",
        )
        train.add_argument("--limit", type=int, default=None, help="with --from-cases: newest N")
        train.add_argument("--name", default="", help="a name for the model")
        train.add_argument("--recipe", default=DEFAULT, choices=sorted(RECIPES))
        train.add_argument("--cv-folds", type=int, default=5)
        train.add_argument(
            "--cv-repeats", type=int, default=1, help="grouped CV repeats to record (0: none)"
        )
        train.add_argument("--seed", type=int, default=0)
        train.add_argument("--activate", action="store_true", help="activate it too")
        train.add_argument("--json", action="store_true")

        ev = sub.add_parser("evaluate", help="Score a model on a labelled file.")
        ev.add_argument("--data", required=True)
        ev.add_argument("--model", type=int, default=None, help="version (default: active)")
        ev.add_argument("--json", action="store_true")

        cv = sub.add_parser("cv", help="Repeated grouped cross-validation of a recipe.")
        cv.add_argument("--data", required=True)
        cv.add_argument("--folds", type=int, default=5)
        cv.add_argument("--repeats", type=int, default=3)
        cv.add_argument("--seed", type=int, default=0)
        cv.add_argument("--recipe", default=DEFAULT, choices=sorted(RECIPES))
        cv.add_argument(
            "--ungrouped",
            action="store_true",
            help="plain stratified folds (lets near-duplicates straddle folds; for comparison)",
        )
        cv.add_argument("--json", action="store_true")

        act = sub.add_parser("activate", help="Make a model version the one intake uses.")
        act.add_argument("version", type=int)

        ls = sub.add_parser("list", help="The registered models.")
        ls.add_argument("--json", action="store_true")

        sub.add_parser("recipes", help="The named training recipes.")

        export = sub.add_parser(
            "export-choices",
            help="Write the categories dispatchers chose as a training file (CSV).",
        )
        export.add_argument("--out", required=True)
        export.add_argument("--limit", type=int, default=None)

        dup = sub.add_parser(
            "duplicates", help="Precision and recall of the duplicate finder on labelled pairs."
        )
        dup.add_argument("--pairs", required=True, help="CSV: file, id_a, id_b, label, reason")
        dup.add_argument("--data-dir", required=True, help="the folder the pairs' files are in")
        dup.add_argument("--folds", type=int, default=5)
        dup.add_argument("--repeats", type=int, default=10)
        dup.add_argument("--json", action="store_true")

        hot = sub.add_parser("hot-issues", help="Clusters of related messages, hottest first.")
        hot.add_argument("--data", required=True, help="CSV like ../shared/data/hot_issues/")
        hot.add_argument("--top", type=int, default=10)
        hot.add_argument("--min-size", type=int, default=1, help="fewest messages a cluster has")
        hot.add_argument("--json", action="store_true")

        rep = sub.add_parser("replies", help="Reply quality against explainable_label (CV).")
        rep.add_argument("--data", required=True, help="CSV like ../shared/data/replies/")
        rep.add_argument("--folds", type=int, default=5)
        rep.add_argument("--repeats", type=int, default=3)
        rep.add_argument("--json", action="store_true")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, "_" + action.replace("-", "_"))(**options)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc

    def _train(self, **o: Any) -> None:
        if o["cv_folds"] < 2 and o["cv_repeats"] > 0:
            raise CommandError(_("--cv-folds must be at least 2."))
        if o["from_cases"]:
            raw = queries.dispatcher_choices_csv(o["limit"])
            data = parse_labelled(raw, name="dispatcher-choices.csv")
        else:
            data = read_labelled(o["data"])
        record = services.train_model(
            data,
            recipe=RECIPES[o["recipe"]],
            name=o["name"],
            cv_folds=o["cv_folds"],
            cv_repeats=o["cv_repeats"],
            seed=o["seed"],
        )
        if o["activate"]:
            record = services.activate_model(record.version)
        if o["json"]:
            self.stdout.write(_dump(_summary(record)))
            return
        self.stdout.write(
            _("Trained model v%(version)d (%(name)s) on %(rows)d messages in %(seconds).1f s.")
            % {
                "version": record.version,
                "name": record.name,
                "rows": record.trained_on_rows,
                "seconds": record.training_seconds,
            }
        )
        f1 = record.metrics.get("macro_f1")
        if f1:
            self.stdout.write(
                _("Grouped CV macro-F1: %(mean).4f ± %(std).4f (%(folds)d folds × %(repeats)d).")
                % {**f1, "folds": record.metrics["folds"], "repeats": record.metrics["repeats"]}
            )
        if not record.is_active:
            self.stdout.write(
                _("Not active yet: gongzhi triage activate %(version)d")
                % {"version": record.version}
            )

    def _export_choices(self, **o: Any) -> None:
        raw = queries.dispatcher_choices_csv(o["limit"])
        with open(o["out"], "wb") as f:
            f.write(raw)
        rows = (
            len(parse_labelled(raw, name=o["out"], require_labels=False))
            if raw.count(b"\n") > 1
            else 0
        )
        self.stdout.write(
            _("Wrote %(rows)d labelled cases to %(file)s.") % {"rows": rows, "file": o["out"]}
        )

    def _evaluate(self, **o: Any) -> None:
        data = read_labelled(o["data"])
        report = evaluate(data, version=o["model"])
        if o["json"]:
            self.stdout.write(_dump(report))
            return
        self.stdout.write(
            _(
                "Model v%(version)d on %(rows)d messages: accuracy %(accuracy).4f, "
                "macro-F1 %(macro_f1).4f, %(rate).0f messages/s."
            )
            % {
                "version": report["model"]["version"],
                "rows": report["rows"],
                "accuracy": report["accuracy"],
                "macro_f1": report["macro_f1"],
                "rate": report["throughput"]["messages_per_second"],
            }
        )
        width = max(len(label) for label in report["per_class"]) + 2
        self.stdout.write(f"{'':{width}}precision  recall     f1  support")
        for label, s in report["per_class"].items():
            self.stdout.write(
                f"{label:{width}}{s['precision']:9.4f} {s['recall']:7.4f} {s['f1']:6.4f}"
                f" {s['support']:8d}"
            )

    def _cv(self, **o: Any) -> None:
        if o["folds"] < 2 or o["repeats"] < 1:
            raise CommandError(_("--folds must be at least 2 and --repeats at least 1."))
        data = read_labelled(o["data"])
        result = cross_validate(
            data,
            RECIPES[o["recipe"]],
            folds=o["folds"],
            repeats=o["repeats"],
            seed=o["seed"],
            grouped=not o["ungrouped"],
        )
        if o["json"]:
            self.stdout.write(_dump(result))
            return
        nd = result["near_duplicates"]
        self.stdout.write(
            _(
                "%(rows)d messages, %(pairs)d near-duplicate pairs, "
                "%(same_user)d messages by repeat posters, %(groups)d groups."
            )
            % {
                "rows": data.source["rows"],
                "pairs": nd["pairs"],
                "same_user": nd["same_user_messages"],
                "groups": nd["groups"],
            }
        )
        f1 = result["macro_f1"]
        self.stdout.write(
            _(
                "%(recipe)s: macro-F1 %(mean).4f ± %(std).4f (min %(min).4f, max %(max).4f) "
                "over %(folds)d folds × %(repeats)d repeats."
            )
            % {**f1, "recipe": o["recipe"], "folds": o["folds"], "repeats": o["repeats"]}
        )

    def _activate(self, **o: Any) -> None:
        record = services.activate_model(o["version"])
        self.stdout.write(_("Model v%(version)d is active.") % {"version": record.version})

    def _list(self, **o: Any) -> None:
        rows = [_summary(r) for r in registered_models()]
        if o["json"]:
            self.stdout.write(_dump(rows))
            return
        for r in rows:
            f1 = r["cv_macro_f1"]
            score = f"{f1['mean']:.4f}±{f1['std']:.4f}" if f1 else "-"
            mark = "*" if r["is_active"] else " "
            self.stdout.write(
                f"{mark} v{r['version']:<4} {r['name']:<36} {score:<16} "
                f"{r['trained_on']['file']} ({r['trained_on']['rows']}) {r['created_at']}"
            )

    def _recipes(self, **o: Any) -> None:
        for name, recipe in RECIPES.items():
            mark = "*" if name == DEFAULT else " "
            self.stdout.write(f"{mark} {name}: {json.dumps(recipe.to_json(), ensure_ascii=False)}")

    def _duplicates(self, **o: Any) -> None:
        from gongzhi.triage.duplicate_evaluation import evaluate_pairs

        if o["folds"] < 2 or o["repeats"] < 1:
            raise CommandError("--folds must be at least 2 and --repeats at least 1.")
        report = evaluate_pairs(o["pairs"], o["data_dir"], folds=o["folds"], repeats=o["repeats"])
        if o["json"]:
            self.stdout.write(_dump(report))
            return
        pairs, finder = report["pairs"], report["finder"]
        self.stdout.write(
            f"{pairs['rows']} pairs ({pairs['positive']} the same matter), "
            f"{pairs['groups']} groups."
        )
        for name, part in (
            ("finder", finder),
            ("shingle Jaccard", report["baseline_shingle_jaccard"]),
        ):
            cv = part["cv"]
            self.stdout.write(
                f"{name}: CV ({cv['folds']} folds x {cv['repeats']}) "
                + ", ".join(
                    f"{k} {cv[k]['mean']:.3f} ± {cv[k]['std']:.3f}"
                    for k in ("precision", "recall", "f1")
                )
                + f"; chosen threshold median {cv['median_threshold']:.4f}"
            )
        at = finder["shipped"]
        self.stdout.write(
            f"finder at the shipped threshold {at['threshold']}: precision {at['precision']:.3f}, "
            f"recall {at['recall']:.3f}, F1 {at['f1']:.3f} (all pairs)."
        )

    def _hot_issues(self, **o: Any) -> None:
        from gongzhi.triage.hot_issues import report

        result = report(o["data"], top=o["top"], min_size=o["min_size"])
        if o["json"]:
            self.stdout.write(_dump(result))
            return
        self.stdout.write(f"{result['messages']} messages, {result['seconds']:.1f} s.")
        for c in result["clusters"]:
            self.stdout.write(
                f"{c['rank']:>3}. heat {c['heat']:.2f}  {c['messages']} messages, "
                f"{c['posters']} posters, {c['likes']} likes, {c['first_at'][:10]} to "
                f"{c['last_at'][:10]}  {c['label']}  ids: {' '.join(c['ids'][:12])}"
            )

    def _replies(self, **o: Any) -> None:
        from gongzhi.triage.replies import report

        if o["folds"] < 2 or o["repeats"] < 1:
            raise CommandError("--folds must be at least 2 and --repeats at least 1.")
        result = report(o["data"], folds=o["folds"], repeats=o["repeats"])
        if o["json"]:
            self.stdout.write(_dump(result))
            return
        self.stdout.write(
            f"{result['rows']} replies ({result['explainable']} explainable), "
            f"{result['folds']} folds x {result['repeats']}, {result['seconds']:.1f} s."
        )
        for name in ("score", "logistic_regression", "length_baseline"):
            part = result[name]
            self.stdout.write(
                f"{name}: "
                + ", ".join(
                    f"{k} {part[k]['mean']:.3f} ± {part[k]['std']:.3f}"
                    for k in ("accuracy", "kappa", "explainable_f1", "not_explainable_f1")
                )
                + f"; confusion {part['confusion_matrix']}"
            )


def _summary(record: Any) -> dict[str, Any]:
    return {
        "version": record.version,
        "name": record.name,
        "is_active": record.is_active,
        "created_at": record.created_at.isoformat(),
        "trained_on": {
            "file": record.trained_on_file,
            "sha256": record.trained_on_sha256,
            "rows": record.trained_on_rows,
        },
        "training_seconds": record.training_seconds,
        "labels": record.labels,
        "artifact_sha256": record.artifact_sha256,
        "artifact_size": record.artifact_size,
        "cv_macro_f1": record.metrics.get("macro_f1"),
    }
