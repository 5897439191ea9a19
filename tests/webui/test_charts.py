"""The live chart draws what metrics.jsonl holds: loss, and for preference runs trl's rewards beside it."""

from webui.charts import loss_figure


def test_a_preference_run_charts_trls_rewards_below_the_loss():
    records = [{"step": s, "loss": 0.7 - 0.1 * s, "learning_rate": 1e-4, "rewards/chosen": 0.1 * s,
                "rewards/rejected": -0.1 * s, "rewards/margins": 0.2 * s, "rewards/accuracies": 0.5 + 0.1 * s}
               for s in range(1, 4)] + [{"step": 3, "eval_loss": 0.4, "eval_rewards/accuracies": 1.0}]
    figure = loss_figure(records)
    names = {trace.name: trace for trace in figure.data}
    assert {"train loss", "held-out loss", "reward, chosen", "reward, rejected", "reward margin", "reward accuracy",
            "held-out reward accuracy"} <= set(names)
    assert list(names["reward margin"].y) == [0.2, 0.4, 0.6000000000000001]
    assert names["reward margin"].yaxis != names["train loss"].yaxis  # its own panel, below the loss
    plain = loss_figure([{"step": 1, "loss": 1.0}])
    assert [trace.name for trace in plain.data] == ["train loss"]


def test_a_grpo_run_charts_each_reward_the_shares_and_the_answer_length():
    records = [{"step": s, "loss": 0.01, "learning_rate": 1e-4, "reward": 0.2 * s, "reward_std": 0.1,
                "rewards/answer/mean": 0.1 * s, "rewards/answer/std": 0.3, "rewards/format/mean": 0.5,
                "rewards/format/std": 0.2, "share/correct": 0.1 * s, "share/well_formed": 0.5,
                "share/correct_and_formed": 0.05 * s, "completions/mean_length": 30 - s, "kl": 0.001 * s}
               for s in range(1, 4)]
    figure = loss_figure(records)
    names = {trace.name: trace for trace in figure.data}
    assert {"reward, all (mean ± spread)", "reward, answer", "reward, format", "right answers", "well-formed answers",
            "right and well-formed", "answer length (tokens)", "KL to the base model"} <= set(names)
    assert list(names["reward, answer"].error_y.array) == [0.3, 0.3, 0.3]  # the spread, drawn as bars
    assert list(names["answer length (tokens)"].y) == [29, 28, 27]
    panels = {names[n].yaxis for n in ("train loss", "reward, answer", "right answers", "answer length (tokens)")}
    assert len(panels) == 4  # the loss, the rewards, the shares and the lengths each in a panel of their own
