"""Model evaluation: a question set run through the RAG pipeline, scored, gated and reported.

The shared records are in :mod:`maas.evaluation.records` and the judge's contract in
:mod:`maas.evaluation.judging`; what scores, aligns and trains lives in the modules beside
them. ``ragas`` and the local models are the ``evaluation`` extra: nothing here imports them at
module level, so a Lambda can read these records without them.
"""
