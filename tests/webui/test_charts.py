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
