"""The command line's verbs, each beside its arguments: `add_<verb>_arguments(verbs)` defines them (choice lists and
defaults come from core.config) and sets `run(args, usage_error)`, which calls the verb and returns its exit code;
launch.py only wires them together. train.py and run_queue.py make runs, results.py uses them, sources.py checks and
brings in data and models, measure.py measures; common.py holds what they share."""
