"""The engine, headless: shared config, run folders, jobs and verbs here; one package per stage below.

Stages in order: data -> models -> training -> results; measure uses them all. A stage never imports a later one.
"""
