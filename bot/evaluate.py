"""The NLU's held-out evaluation, with the thresholds the bot must meet.

Run in the bot's venv from bot/:

    python evaluate.py --model models/bot-<hash>.tar.gz [--json out.json] [--sweep]

The sets in eval/ are never trained on and are written differently from data/nlu/:

- ``vi.yml``: every intent, with diacritics (at least 10 messages each);
- the same messages with the diacritics removed, made here from vi.yml;
- ``teencode.yml``: chat shorthand ("ko dc", "đg", "ntn", "bn");
- ``en.yml``: tourists asking in English;
- ``codes.yml``: tracking codes typed every way, and numbers that only look like codes;
- ``oos.yml``: what the bot does not do (must end in nlu_fallback or out_of_scope).

Prints a table and exits 1 when a threshold fails. ``--sweep`` also prints, for fallback
thresholds from 0.10 to 0.60, how many out-of-scope messages would be caught and how many
in-scope messages would wrongly fall back (the FallbackClassifier threshold in config.yml
is chosen from that table).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from components.vi_text import normalise, normalise_code, strip_marks  # noqa: E402

EVAL = HERE / "eval"
TRAINING = HERE / "data" / "nlu"
FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
# Set → minimum macro-F1 of its intents.
F1_THRESHOLDS = {"vi": 0.92, "vi_no_diacritics": 0.90, "teencode": 0.85, "en": 0.85}
CODE_F1_THRESHOLD = 0.98
OOS_CAUGHT_THRESHOLD = 0.80
FALSE_FALLBACK_THRESHOLD = 0.05
# The lang entity drives English answers: English sets must read as en, the rest as vi
# (or as nothing, which leaves the slot at its initial vi).
LANG_THRESHOLDS = {"vi": 0.98, "vi_no_diacritics": 0.95, "teencode": 0.95, "en": 0.95}
EXPECTED_LANG = {"vi": "vi", "vi_no_diacritics": "vi", "teencode": "vi", "en": "en"}


def load_examples(path: Path) -> list[dict]:
    """``[{"text", "intent", "entities"}]`` from a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [
        {"text": ex.get("text"), "intent": ex.get("intent"),
         "entities": list(ex.get("entities") or [])}
        for ex in data.training_examples
    ]


def training_overlap(sets: dict[str, list[dict]]) -> list[str]:
    """Held-out messages that also occur in the training data (compared folded)."""
    trained = {normalise(ex["text"]) for ex in load_examples(TRAINING)}
    return sorted({ex["text"] for examples in sets.values() for ex in examples
                   if normalise(ex["text"]) and normalise(ex["text"]) in trained})


def without_diacritics(examples: list[dict]) -> list[dict]:
    """The same messages as typed on a keyboard without Vietnamese input (case kept)."""
    return [{"text": strip_marks(ex["text"]), "intent": ex["intent"], "entities": []}
            for ex in examples]


def macro_f1(gold: list[str], predicted: list[str]) -> tuple[float, dict]:
    """Macro-F1 over the gold intents (a fallback counts as a wrong answer)."""
    labels = sorted(set(gold))
    per_intent = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {"f1": round(f1, 4), "support": tp + fn}
    return sum(v["f1"] for v in per_intent.values()) / len(labels), per_intent


def _codes(entities: list[dict], text: str) -> list[str]:
    out = []
    for entity in entities:
        if entity.get("entity") != "report_code":
            continue
        typed = text[entity["start"]:entity["end"]] if "start" in entity else entity["value"]
        out.append(normalise_code(str(entity.get("value") or typed)) or str(typed))
    return sorted(out)


def code_f1(examples: list[dict], parses: list[dict]) -> tuple[float, list[dict]]:
    """F1 of report_code entities, matched on the canonical code (the action's view)."""
    tp = fp = fn = 0
    errors = []
    for ex, parse in zip(examples, parses):
        gold = Counter(_codes(ex["entities"], ex["text"]))
        found = Counter(_codes(parse.get("entities", []), ex["text"]))
        hit = sum((gold & found).values())
        tp += hit
        fp += sum(found.values()) - hit
        fn += sum(gold.values()) - hit
        if gold != found:
            errors.append({"text": ex["text"], "gold": sorted(gold.elements()),
                           "found": sorted(found.elements())})
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, errors


def top_intent(parse: dict) -> tuple[str, float]:
    """The classifier's own best intent and confidence (behind a fallback, if any)."""
    for candidate in parse.get("intent_ranking") or []:
        if candidate.get("name") != FALLBACK:
            return candidate["name"], float(candidate.get("confidence") or 0.0)
    intent = parse.get("intent") or {}
    return intent.get("name") or FALLBACK, float(intent.get("confidence") or 0.0)


def lang_of(parse: dict) -> str | None:
    for entity in parse.get("entities", []):
        if entity.get("entity") == "lang":
            return entity.get("value")
    return None


class Parser:
    def __init__(self, model: Path) -> None:
        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)   # no debug line per parsed message
        self.loop = asyncio.new_event_loop()
        self.agent = Agent.load(str(model))

    def parse(self, texts: list[str]) -> list[dict]:
        return [self.loop.run_until_complete(self.agent.parse_message(text)) for text in texts]


def evaluate(model: Path, sweep: bool = False, sets_dir: Path = EVAL) -> dict:
    started = time.monotonic()
    parser = Parser(model)
    load_seconds = time.monotonic() - started
    vi = load_examples(sets_dir / "vi.yml")
    sets = {
        "vi": vi,
        "vi_no_diacritics": without_diacritics(vi),
        "teencode": load_examples(sets_dir / "teencode.yml"),
        "en": load_examples(sets_dir / "en.yml"),
    }
    report: dict = {"model": str(model), "sets_dir": str(sets_dir), "load_seconds": round(load_seconds, 1), "sets": {},
                    "checks": []}
    checks = report["checks"]

    def check(name: str, value: float, threshold: float, higher_is_better: bool = True) -> None:
        ok = value >= threshold if higher_is_better else value <= threshold
        checks.append({"check": name, "value": round(value, 4),
                       "threshold": ("≥ " if higher_is_better else "≤ ") + f"{threshold:g}",
                       "passed": ok})

    in_scope_raw: list[tuple[str, float]] = []   # (classifier's intent, confidence)
    in_scope_final: list[str] = []
    started = time.monotonic()
    parsed = 0
    for name, examples in sets.items():
        parses = parser.parse([ex["text"] for ex in examples])
        parsed += len(parses)
        gold = [ex["intent"] for ex in examples]
        predicted = [(p.get("intent") or {}).get("name") or FALLBACK for p in parses]
        f1, per_intent = macro_f1(gold, predicted)
        accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
        # No lang entity keeps the slot; a conversation starts in Vietnamese.
        langs = [lang_of(p) or "unchanged" for p in parses]
        accepted = {EXPECTED_LANG[name]} | ({"unchanged"} if EXPECTED_LANG[name] == "vi" else set())
        lang_accuracy = sum(lang in accepted for lang in langs) / len(langs)
        for ex, p, pred in zip(examples, parses, predicted):
            if ex["intent"] != OUT_OF_SCOPE:
                in_scope_raw.append(top_intent(p))
                in_scope_final.append(pred)
        report["sets"][name] = {
            "messages": len(examples), "intents": len(set(gold)), "macro_f1": round(f1, 4),
            "accuracy": round(accuracy, 4), "lang_accuracy": round(lang_accuracy, 4),
            "per_intent": per_intent,
            "errors": [{"text": ex["text"], "gold": g, "predicted": p,
                        "confidence": round(top_intent(parse)[1], 3)}
                       for ex, g, p, parse in zip(examples, gold, predicted, parses) if g != p],
            "lang_errors": [ex["text"] for ex, lang in zip(examples, langs)
                            if lang not in accepted],
        }
        check(f"intent macro-F1 ({name})", f1, F1_THRESHOLDS[name])
        check(f"lang entity accuracy ({name})", lang_accuracy, LANG_THRESHOLDS[name])

    overlap = training_overlap({**sets, "oos": load_examples(sets_dir / "oos.yml")})
    report["training_overlap"] = overlap
    check("held-out messages found in the training data", len(overlap), 0,
          higher_is_better=False)

    codes = load_examples(sets_dir / "codes.yml")
    code_parses = parser.parse([ex["text"] for ex in codes])
    parsed += len(code_parses)
    f1, code_errors = code_f1(codes, code_parses)
    report["sets"]["codes"] = {
        "messages": len(codes),
        "with_code": sum(1 for ex in codes if _codes(ex["entities"], ex["text"])),
        "f1": round(f1, 4), "errors": code_errors,
    }
    check("report_code entity F1 (codes)", f1, CODE_F1_THRESHOLD)

    oos = load_examples(sets_dir / "oos.yml")
    oos_parses = parser.parse([ex["text"] for ex in oos])
    parsed += len(oos_parses)
    oos_final = [(p.get("intent") or {}).get("name") for p in oos_parses]
    caught = sum(p in (FALLBACK, OUT_OF_SCOPE) for p in oos_final) / len(oos)
    false_fallback = sum(p in (FALLBACK, OUT_OF_SCOPE) for p in in_scope_final) / len(in_scope_final)
    report["sets"]["oos"] = {
        "messages": len(oos), "caught": round(caught, 4),
        "missed": [{"text": ex["text"], "predicted": p}
                   for ex, p in zip(oos, oos_final) if p not in (FALLBACK, OUT_OF_SCOPE)],
        "in_scope_messages": len(in_scope_final), "false_fallback": round(false_fallback, 4),
    }
    check("out-of-scope caught (oos)", caught, OOS_CAUGHT_THRESHOLD)
    check("false fallbacks on in-scope messages", false_fallback, FALSE_FALLBACK_THRESHOLD,
          higher_is_better=False)
    report["parse_ms_per_message"] = round(1000 * (time.monotonic() - started) / parsed, 1)

    if sweep:
        oos_raw = [top_intent(p) for p in oos_parses]
        rows = []
        for step in range(10, 61, 5):
            threshold = step / 100
            rows.append({
                "threshold": threshold,
                "oos_caught": round(sum(i == OUT_OF_SCOPE or c < threshold
                                        for i, c in oos_raw) / len(oos_raw), 4),
                "false_fallback": round(sum(i == OUT_OF_SCOPE or c < threshold
                                            for i, c in in_scope_raw) / len(in_scope_raw), 4),
            })
        report["threshold_sweep"] = rows
    report["passed"] = all(c["passed"] for c in checks)
    return report


def print_report(report: dict, verbose: bool) -> None:
    print(f"\nNLU evaluation of {report['model']} "
          f"(load {report['load_seconds']} s, {report['parse_ms_per_message']} ms/message)\n")
    print(f"{'set':<18}{'messages':>9}{'intents':>9}{'macro-F1':>10}{'accuracy':>10}{'lang ok':>9}")
    for name, data in report["sets"].items():
        if "macro_f1" in data:
            print(f"{name:<18}{data['messages']:>9}{data['intents']:>9}{data['macro_f1']:>10.3f}"
                  f"{data['accuracy']:>10.3f}{data['lang_accuracy']:>9.3f}")
    codes, oos = report["sets"]["codes"], report["sets"]["oos"]
    print(f"{'codes':<18}{codes['messages']:>9}   report_code F1 {codes['f1']:.3f} "
          f"({codes['with_code']} messages with a code)")
    print(f"{'oos':<18}{oos['messages']:>9}   caught {oos['caught']:.3f}; false fallbacks "
          f"{oos['false_fallback']:.3f} of {oos['in_scope_messages']} in-scope messages\n")
    print(f"{'check':<42}{'value':>8}  {'threshold':<10} result")
    for c in report["checks"]:
        print(f"{c['check']:<42}{c['value']:>8.3f}  {c['threshold']:<10} "
              f"{'ok' if c['passed'] else 'FAILED'}")
    if "threshold_sweep" in report:
        print("\nfallback threshold sweep (classifier confidence below it → nlu_fallback)")
        print(f"{'threshold':>10}{'oos caught':>12}{'false fallback':>16}")
        for row in report["threshold_sweep"]:
            print(f"{row['threshold']:>10.2f}{row['oos_caught']:>12.3f}{row['false_fallback']:>16.3f}")
    if verbose:
        for name, data in report["sets"].items():
            for error in data.get("errors", []):
                print(f"  [{name}] {error}")
            for text in data.get("lang_errors", []):
                print(f"  [{name}] lang wrong: {text}")
            for miss in data.get("missed", []):
                print(f"  [{name}] not caught: {miss}")
        for text in report["training_overlap"]:
            print(f"  also in the training data: {text}")
    print("\nresult:", "all thresholds met" if report["passed"] else "THRESHOLD FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="a trained model (.tar.gz)")
    parser.add_argument("--json", type=Path, help="write the full report (with errors) here")
    parser.add_argument("--sweep", action="store_true", help="print a fallback threshold sweep")
    parser.add_argument("--sets", type=Path, default=EVAL,
                        help="a folder with the same five files (default: eval/)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every error")
    args = parser.parse_args(argv)
    if not args.model.exists():
        print(f"no model at {args.model}", file=sys.stderr)
        return 2
    logging.disable(logging.WARNING)
    report = evaluate(args.model, sweep=args.sweep, sets_dir=args.sets)
    print_report(report, args.verbose)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
