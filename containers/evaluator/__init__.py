"""The evaluation job: one shard of an evaluation's questions, answered and scored."""
