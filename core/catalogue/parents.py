"""Messages of starting a run from a finished one (model.source run:NAME): core/models/parent.py, core/models/load.py
and core/training/tuning.py."""

TEXTS: dict[str, tuple[str, str]] = {
    # ---- core/models/parent.py: refusals before anything loads
    "models.parent.no_such_run": (
        "There is no run '{name}' ({folder}) to start from. Finished runs: {finished}.",
        "没有可作为起点的运行“{name}”（{folder}）。已完成的运行：{finished}。"),
    "models.parent.not_finished": (
        "The run '{name}' is {state}, not finished: only a completed (or stopped) run has weights to start from.",
        "运行“{name}”的状态是 {state}，尚未完成：只有已完成（或已停止）的运行才有可作为起点的权重。"),
    "models.parent.no_weights": (
        "The run '{name}' saved no adapter and no model ({folder}), so there is nothing to start from.",
        "运行“{name}”没有保存适配器或模型（{folder}），因此无法以它为起点。"),
    # ---- the Model tab's note on a finished run picked as the base (webui/model_picker.py)
    "models.parent.picked": (
        "Finished run **{name}**: {method} on {data}, {loss}. The base model at the bottom of its chain: "
        "**{base}**{through}.",
        "已完成的运行 **{name}**：在 {data} 上进行 {method}，{loss}。其链条最底层的基础模型：**{base}**{through}。"),
    "models.parent.picked_loss": ("final held-out loss {loss:.3f}", "最终留出集损失 {loss:.3f}"),
    "models.parent.picked_no_loss": ("no held-out loss (nothing was held out)", "没有留出集损失（未留出数据）"),
    "models.parent.picked_through": (", through the runs {runs}", "，中间经过运行 {runs}"),
    # ---- core/models/load.py: what was loaded, for the log
    "models.parent.whole_model": (
        "Starting from run {run}: the whole model it saved ({folder}).",
        "从运行 {run} 开始：使用它保存的完整模型（{folder}）。"),
    "models.parent.continue": (
        "Starting from run {run} (continue): its base model {base} with its adapter, which trains further.",
        "从运行 {run} 开始（continue）：其基础模型 {base} 加上它的适配器，继续训练该适配器。"),
    "models.parent.build_on": (
        "Starting from run {run} (build_on): its adapter merged into its base model {base}; a new adapter goes on "
        "top.",
        "从运行 {run} 开始（build_on）：它的适配器已合并进其基础模型 {base}；新适配器加在其上。"),
    # ---- core/training/tuning.py: continuing a run's adapter
    "training.start_from.continue_lora": (
        "Continuing the adapter of the run started from, with its LoRA settings (r={r}, alpha={alpha}); the form's "
        "r={form_r}, alpha={form_alpha} are not used.",
        "继续训练起点运行的适配器，沿用它的 LoRA 设置（r={r}，alpha={alpha}）；表单中的 r={form_r}、"
        "alpha={form_alpha} 不会使用。"),
    "training.start_from.continue_needs_lora": (
        "model.start continue trains the LoRA adapter of the run started from, so train.tuning must be lora (it is "
        "{tuning}). Use model.start build_on to train {tuning} on the merged model.",
        "model.start 为 continue 时训练的是起点运行的 LoRA 适配器，因此 train.tuning 必须为 lora（当前为 {tuning}）。"
        "若要在合并后的模型上进行 {tuning} 训练，请使用 model.start build_on。"),
}
