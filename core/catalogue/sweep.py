"""Messages of a sweep (core/training/sweep.py, `launch.py train` of a file with sweep:, the Train tab's Sweep panel)
and of comparing runs by their held-out loss (core/results/compare.py, `launch.py compare`, Compare runs)."""

TEXTS: dict[str, tuple[str, str]] = {
    # ---- core/training/sweep.py: a sweep: the user must fix. {where} is config.where_line or config.where
    "config.sweep.with_stages": (
        "{where}a config has 'sweep' or 'stages', not both; sweep the options of one run, or write "
        "one chain file per value",
        "{where}一个配置只能有 'sweep' 或 'stages' 之一；请对单次运行的选项做扫描，或为每个取值各写"
        "一个训练链文件"),
    "config.sweep.not_a_mapping": (
        "{where}'sweep' should map options to lists of values (for example "
        "'train.learning_rate: [1e-4, 3e-4, 1e-3]'), found {found}",
        "{where}'sweep' 应把选项映射到取值列表（例如 'train.learning_rate: [1e-4, 3e-4, 1e-3]'），"
        "实际是 {found}"),
    "config.sweep.unknown_key": (
        "{where}'sweep' names an unknown option '{key}'. Options that can be swept: {numeric}",
        "{where}'sweep' 中的选项 '{key}' 不存在。可以扫描的选项：{numeric}"),
    "config.sweep.unknown_key_hint": (
        "{where}'sweep' names an unknown option '{key}'. Did you mean '{hint}'? Options that can be "
        "swept: {numeric}",
        "{where}'sweep' 中的选项 '{key}' 不存在。是不是想写 '{hint}'？可以扫描的选项：{numeric}"),
    "config.sweep.not_numeric": (
        "{where}only numeric options can be swept, and '{key}' is not one; set it for all runs "
        "outside 'sweep'. Options that can be swept: {numeric}",
        "{where}只有数值选项可以扫描，'{key}' 不是；请在 'sweep' 之外为所有运行统一设置它。"
        "可以扫描的选项：{numeric}"),
    "config.sweep.no_values": (
        "{where}'sweep' should give '{key}' a list of values, for example [1e-4, 3e-4, 1e-3], "
        "found {found}",
        "{where}'sweep' 应为 '{key}' 给出取值列表，例如 [1e-4, 3e-4, 1e-3]，实际是 {found}"),
    "config.sweep.same_value": (
        "{where}'sweep' lists {value} twice for '{key}'; each value is one run, so list it once",
        "{where}'sweep' 为 '{key}' 列了两次 {value}；每个取值对应一次运行，请只列一次"),
    "sweep.too_many": (
        "This sweep is {count} runs (more than {most}), one after another: {time}. Run it again with --yes to "
        "start them all, or list fewer values.",
        "这次扫描共 {count} 次运行（超过 {most} 次），依次进行：{time}。确认要全部开始请加 --yes 再运行一次，"
        "或者少列几个取值。"),
    "sweep.time_total": ("about {time} in all", "总共约 {time}"),
    "sweep.time_rough": ("roughly {time} in all", "粗略估计总共 {time}"),
    "sweep.time_unknown": (
        "its time is not known until a run of this model has been measured here",
        "在本机测过这个模型的一次运行之前，无法估计所需时间"),
    # ---- launch.py train of a sweep
    "sweep.starting": ("Sweep run {number} of {count}: {run} ({values})",
                       "扫描运行 {number} / {count}：{run}（{values}）"),
    "sweep.dry_run_first": (
        "A dry run checks the first run of the sweep ({run}); the others differ only in {keys}.",
        "试运行只检查扫描的第一次运行（{run}）；其余运行只在 {keys} 上不同。"),
    "sweep.run_loss": ("{run}: final held-out loss {loss}", "{run}：最终留出集损失 {loss}"),
    "sweep.run_no_loss": ("{run}: {state}, no held-out loss", "{run}：{state}，没有留出集损失"),
    "sweep.stopped": ("The sweep stopped here; not started: {runs}", "扫描在此停止；未开始：{runs}"),
    "sweep.failed": ("{failed} of {count} runs did not finish: {runs}",
                     "{count} 次运行中有 {failed} 次没有完成：{runs}"),
    "sweep.compare_hint": (
        "Compare them: python launch.py compare --sweep {sweep}  (or in the studio: Train tab, Compare runs, "
        "sweep {sweep})",
        "比较它们：python launch.py compare --sweep {sweep}（或在工作室的“训练”页：“比较运行”，扫描 {sweep}）"),
    # ---- core/results/compare.py: runs side by side, best by held-out loss
    "compare.best": ("Best by held-out loss: {run} ({loss})", "按留出集损失最佳：{run}（{loss}）"),
    "compare.no_best": (
        "No run has a held-out loss to rank by yet: a run gets one at its evaluations, on the held-out rows of "
        "data.eval_fraction or data.eval_path.",
        "还没有运行带有可供排序的留出集损失：运行在评估时才得到它，用的是 data.eval_fraction 或 data.eval_path "
        "留出的行。"),
    "compare.run": ("run", "运行"),
    "compare.held_out_loss": ("held-out loss", "留出集损失"),
    "compare.time": ("time", "用时"),
    "compare.state": ("state", "状态"),
    "compare.answer": ("answer to: {prompt}", "对“{prompt}”的回答"),
    "compare.no_runs": ("No runs to compare: {what}", "没有可比较的运行：{what}"),
    "compare.no_sweep_runs": ("no run in {runs_dir} is of the sweep '{sweep}'",
                              "{runs_dir} 中没有属于扫描“{sweep}”的运行"),
    "compare.no_such_run": ("no run named '{run}' in {runs_dir}", "{runs_dir} 中没有名为“{run}”的运行"),
    # ---- webui/sweep_panel.py, said when something is typed or clicked
    "sweep.panel_runs": ("{count} runs, the settings of the form with {key} = {values}: {names}. Time: {time}.",
                         "{count} 次运行，使用表单的设置，{key} 取 {values}：{names}。时间：{time}。"),
    "sweep.panel_queue_count": ("Queue {count} runs", "将 {count} 次运行加入队列"),
    "sweep.panel_confirm": (
        "{count} runs is more than {most} ({time}): tick “Queue more than 12 runs” to queue them all.",
        "{count} 次运行超过了 {most} 次（{time}）：勾选“确认加入超过 12 次运行”后才能全部加入队列。"),
    "sweep.panel_queued": (
        "Queued {count} runs of sweep {sweep}; when they have finished, Compare runs below opens on them.",
        "已将扫描 {sweep} 的 {count} 次运行加入队列；它们完成后，可在下方“比较运行”中一起查看。"),
}
