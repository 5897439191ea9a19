"""Messages of core/config.py, core/runs.py and core/jobs.py: settings, run folders and the run queue."""

TEXTS: dict[str, tuple[str, str]] = {
    # ---- core/config.py: a config value the user must fix. {where} is config.where or config.where_line.
    "config.where": ("{source}: ", "{source}："),
    "config.where_line": ("{source} line {line}: ", "{source} 第 {line} 行："),
    "config.no_file": ("No config file at {path}", "{path} 处没有配置文件"),
    "config.not_utf8": ("{path} is not UTF-8 text; save it as UTF-8", "{path} 不是 UTF-8 文本；请以 UTF-8 编码保存"),
    "config.yaml_invalid_at": ("{source} line {line}, column {column}: not valid YAML ({problem})",
                               "{source} 第 {line} 行第 {column} 列：不是有效的 YAML（{problem}）"),
    "config.yaml_invalid": ("{source}: not valid YAML ({problem})", "{source}：不是有效的 YAML（{problem}）"),
    "config.not_a_mapping": ("{source}: expected keys such as name:, model:, train:, found {found}",
                             "{source}：应为 name:、model:、train: 这样的键，实际是 {found}"),
    # ---- core/training/chain.py and core.jobs.check_stages: a config with stages:, and launch.py train running them
    "config.stages.not_a_list": (
        "{source} line {line}: 'stages' should be a list of stages, each with its own keys (for example "
        "'- name: sft' then 'train:' below it), found {found}",
        "{source} 第 {line} 行：'stages' 应为阶段列表，每个阶段有自己的键（例如 '- name: sft'，下面再写 "
        "'train:'），实际是 {found}"),
    "config.stages.same_name": (
        "{source} line {line}: two stages are named '{stage}'; each stage's run is named after it, so give them "
        "different names",
        "{source} 第 {line} 行：有两个阶段都叫“{stage}”；每个阶段的运行以它命名，请为它们起不同的名字"),
    "config.stages.stage_refused": (
        "Stage {stage} ({number} of {count}) cannot start, so no stage was started: {reason}",
        "阶段 {stage}（第 {number} 个，共 {count} 个）无法开始，因此一个阶段也没有开始：{reason}"),
    "chain.stage_starting": (
        "Stage {stage} ({number} of {count}): {method}{after}",
        "阶段 {stage}（第 {number} 个，共 {count} 个）：{method}{after}"),
    "chain.after": (", starting from {run}", "，以 {run} 为起点"),
    "chain.stage_done": (
        "Stage {stage} ({number} of {count}): already finished as {run}, with the same settings and data; skipped "
        "(delete that run folder to train the stage again)",
        "阶段 {stage}（第 {number} 个，共 {count} 个）：已作为 {run} 完成，设置和数据都相同，跳过"
        "（删除该运行文件夹即可重新训练这个阶段）"),
    "chain.stage_failed": (
        "Stage {stage} ({number} of {count}) did not finish, so the chain stopped here{left}. Fix it and run the "
        "chain again, or start the later stages from run:{run} once it is resumed.",
        "阶段 {stage}（第 {number} 个，共 {count} 个）没有完成，整条训练链在此停止{left}。修正后重新运行整条链，"
        "或在它恢复完成后以 run:{run} 为起点开始后续阶段。"),
    "chain.not_started": ("; not started: {stages}", "；未开始：{stages}"),
    "chain.done": ("All {count} stages finished: {runs}", "全部 {count} 个阶段已完成：{runs}"),
    "chain.dry_run_first": (
        "A dry run checks the first stage ({stage}); the later stages start from runs that do not exist yet.",
        "试运行只检查第一个阶段（{stage}）；后续阶段的起点运行尚不存在。"),
    "config.unknown_key": ("{where}unknown key '{key}'. Known keys here: {known}",
                           "{where}未知的键 '{key}'。此处可用的键：{known}"),
    "config.unknown_key_hint": ("{where}unknown key '{key}'. Did you mean '{hint}'? Known keys here: {known}",
                                "{where}未知的键 '{key}'。是不是想写 '{hint}'？此处可用的键：{known}"),
    "config.not_a_section": ("{where}'{key}' should hold keys ({names}), found {found}",
                             "{where}'{key}' 下应是这些键（{names}），实际是 {found}"),
    "config.auto_or_number": ("{where}'{key}' should be 'auto' or a number such as 2e-4, found {found}",
                              "{where}'{key}' 应为 'auto' 或数字（如 2e-4），实际是 {found}"),
    "config.auto_or_count": ("{where}'{key}' should be 'auto' or a whole number such as 2, found {found}",
                             "{where}'{key}' 应为 'auto' 或整数（如 2），实际是 {found}"),
    "config.not_texts": ("{where}'{key}' should be a list of texts such as [\"Who are you?\"], found {found}",
                         "{where}'{key}' 应为文本列表，如 [\"你是谁？\"]，实际是 {found}"),
    "config.not_layer_names": ("{where}'{key}' should be 'all-linear' or a list of layer names, found {found}",
                               "{where}'{key}' 应为 'all-linear' 或层名称列表，实际是 {found}"),
    "config.not_bool": ("{where}'{key}' should be true or false, found {found}",
                        "{where}'{key}' 应为 true 或 false，实际是 {found}"),
    "config.not_whole": ("{where}'{key}' should be a whole number, found {found}",
                         "{where}'{key}' 应为整数，实际是 {found}"),
    "config.not_number": ("{where}'{key}' should be a number, found {found}",
                          "{where}'{key}' 应为数字，实际是 {found}"),
    "config.not_text": ("{where}'{key}' should be text, found {found}", "{where}'{key}' 应为文本，实际是 {found}"),
    "config.not_mapping": ("{where}'{key}' should be a mapping such as {{key: value}}, found {found}",
                           "{where}'{key}' 应为映射，如 {{key: value}}，实际是 {found}"),
    "config.bad_map_key": ("{where}'{key}' has the key {name}; use some of: {allowed}",
                           "{where}'{key}' 含有键 {name}；请从这些键中选用：{allowed}"),
    "config.bad_map_value": ("{where}'{key}' maps {name} to {value}; use one of: {allowed}",
                             "{where}'{key}' 把 {name} 映射为 {value}；请使用以下之一：{allowed}"),
    "config.bad_name": ("{where}'{key}' is {found}; use letters, digits, '.', '_' or '-'",
                        "{where}'{key}' 为 {found}；只能使用字母、数字、'.'、'_' 或 '-'"),
    "config.bad_pattern": ("{where}'{key}' is {found}; use one of {choices} or {other}",
                           "{where}'{key}' 为 {found}；请使用 {choices} 之一，或 {other}"),
    "config.gpu_numbers": ("GPU numbers such as '0,1'", "GPU 编号，如 '0,1'"),
    "config.bad_list_choice": ("{where}'{key}' holds {found}; each item must be one of: {choices}",
                               "{where}「{key}」中有 {found}；每一项必须是以下之一：{choices}"),
    "config.grpo_no_rewards": (
        "{where}grpo needs at least one reward: list some of {choices} in 'train.rewards', or name a reward file in "
        "'train.reward_file'",
        "{where}grpo 至少需要一个奖励：在「train.rewards」中列出 {choices} 中的几项，或在「train.reward_file」中"
        "指定奖励文件"),
    "config.grpo_batch": (
        "{where}grpo compares the {generations} completions of each prompt with each other, so the completions of one "
        "step (batch_size {batch} x grad_accum {accum} = {per_step}) must be a multiple of {generations}. Set "
        "batch_size to {batches}, or num_generations to one of {divisors}",
        "{where}grpo 会把同一提示的 {generations} 个回答互相比较，所以每步的回答数（batch_size {batch} × grad_accum "
        "{accum} = {per_step}）必须是 {generations} 的倍数。请把 batch_size 设为 {batches}，或把 num_generations 设为 "
        "{divisors} 之一"),
    "config.bad_choice": ("{where}'{key}' is {found}; choose one of: {choices}",
                          "{where}'{key}' 为 {found}；请从中选择：{choices}"),
    "config.below_min": ("{where}'{key}' is {value}; it must be at least {low}",
                         "{where}'{key}' 为 {value}；不能小于 {low}"),
    "config.above_max": ("{where}'{key}' is {value}; it must be at most {high}",
                         "{where}'{key}' 为 {value}；不能大于 {high}"),
    "config.zero_steps": ("{where}'{key}' is 0, which would train no step; use -1 to train the epochs, or 1 or more "
                          "steps",
                          "{where}'{key}' 为 0，这样一步也不会训练；请用 -1 按训练轮数训练，或填 1 及以上的步数"),
    "config.memory_key": ("{where}'{key}' has the key {name}; use a GPU number such as 0 (or cuda:0), cpu or disk",
                          "{where}'{key}' 含有键 {name}；请使用 GPU 编号（如 0，或 cuda:0）、cpu 或 disk"),
    "config.memory_size": ("{where}'{key}' gives {name} the size {size}; write it like 20GiB or 512MiB",
                           "{where}'{key}' 给 {name} 的大小为 {size}；请写成 20GiB 或 512MiB 这样的形式"),
    "config.quantized_full": (
        "{where}'train.tuning' is {tuning}, which trains the model's own weights; they cannot be trained in "
        "{quantization} (model.quantization). Use tuning 'lora' (QLoRA), or quantization 'none'.",
        "{where}'train.tuning' 为 {tuning}，会训练模型自身的权重；这些权重无法在 {quantization}"
        "（model.quantization）下训练。请把 tuning 设为 'lora'（QLoRA），或把 quantization 设为 'none'。"),
    # webui/form.py: a mapping typed into the Settings form
    "config.form_not_a_mapping": ("the form: '{key}' is not a mapping such as {example}: {text}",
                                  "表单：'{key}' 不是 {example} 这样的映射：{text}"),
    # core/cli/common.py: a KEY=VALUE flag
    "cli.pair": ("{flag} {item}: write it as KEY=VALUE, e.g. {flag} completion=answer",
                 "{flag} {item}：请写成 KEY=VALUE，例如 {flag} completion=answer"),
    # ---- core/runs.py: a run folder's status
    "runs.no_status": ("This folder has no status.json; it is not a run folder.",
                       "此文件夹没有 status.json；它不是运行文件夹。"),
    "runs.unreadable_status": ("status.json is unreadable.", "status.json 无法读取。"),
    "runs.interrupted": ("The app stopped while this run was {state} (at step {step}).",
                         "应用停止时，本次运行正处于“{state}”状态（第 {step} 步）。"),
    # ---- core/jobs.py: the run queue
    "jobs.in_progress": ("A run is in progress ({run}); stop it or wait for it to finish.",
                         "已有一个运行正在进行（{run}）；请先停止它，或等它结束。"),
    "jobs.not_resumable": ("Run {run} is {state}; only a stopped, failed or interrupted run resumes.",
                           "运行 {run} 当前为“{state}”；只有已停止、失败或已中断的运行才能继续。"),
    "jobs.no_checkpoint": ("Run {run} has no complete checkpoint to resume from; start it anew.",
                           "运行 {run} 没有可以继续的完整检查点；请重新开始。"),
    "jobs.starting": ("Starting ...", "正在启动……"),
    "jobs.stopping": ("Stopping at the end of this step ...", "将在本步结束时停止……"),
    "jobs.aborted": ("Aborted at step {step} without saving; Resume continues from the last complete checkpoint.",
                     "在第 {step} 步中止，未保存；“继续”会从最近一个完整的检查点开始。"),
    # ---- core/training/queue.py, core/jobs.py and `launch.py queue`: runs waiting to start one after another
    "queue.unknown_entry": ("No queued run is {entry}; the queue holds: {known}",
                            "队列中没有 {entry}；队列里有：{known}"),
    "queue.ambiguous": ("Several queued runs are named {name}; name one by its id: {ids}",
                        "队列中有多个名为 {name} 的运行；请用编号指定其中一个：{ids}"),
    "queue.unreadable": ("The queue file {path} is unreadable ({problem}); fix or delete it",
                         "队列文件 {path} 无法读取（{problem}）；请修正或删除它"),
    "queue.cli_empty": ("The queue is empty.", "队列是空的。"),
    # a chain in the queue: one entry per stage; a stage that does not complete takes the later ones out
    "queue.chain_added": ("Queued chain {chain} (id {id}): {count} stages, {runs}; numbers {first} to {last} in the "
                          "queue. Each stage starts when the one before it completed.",
                          "已将训练链 {chain} 加入队列（编号 {id}）：共 {count} 个阶段，{runs}；"
                          "排在队列第 {first} 至第 {last} 位。每个阶段在前一个阶段完成后开始。"),
    "queue.chain_dropped": ("{stages} not started (chain {chain}, taken out of the queue): {reason}",
                            "{stages} 未开始（训练链 {chain}，已移出队列）：{reason}"),
    "queue.chain_stage_ended": ("{run} {state} ({reason})", "{run} {state}（{reason}）"),
    "queue.chain_stage_gone": ("the stage before it, {stage}, did not finish (skipped, or taken out of the queue)",
                               "它之前的阶段 {stage} 没有完成（被跳过，或被移出队列）"),
    "queue.note": ("{when} {note}", "{when} {note}"),
    "queue.cli_waiting": (
        "Waiting for run {run}, trained by process {pid} in this runs folder: one process trains there at a time. "
        "The queue goes on here when it ends (Ctrl-C stops waiting and leaves the queue as it is).",
        "正在等待运行 {run}：进程 {pid} 正在这个运行文件夹中训练它，同一个文件夹一次只有一个进程训练。"
        "它结束后队列在这里继续（按 Ctrl-C 停止等待，队列保持不变）。"),
    "jobs.other_process": (
        "Run {run} is training in this runs folder, in another process (pid {pid}: launch.py queue run or another "
        "studio); one run trains there at a time. Wait for it to end, add this run to the queue, or stop it there.",
        "运行 {run} 正在这个运行文件夹中由另一个进程训练（pid {pid}：launch.py queue run 或另一个工作室）；"
        "同一个文件夹一次只训练一个运行。请等它结束、把这次运行加入队列，或在那边停止它。"),
    "queue.cli_held": (
        "The queue waits for run {run}, interrupted when the studio stopped: resume it (launch.py train --resume "
        "{folder}) or skip it (launch.py queue skip).",
        "队列正在等待运行 {run}（工作室停止时它被中断了）：继续它（launch.py train --resume {folder}），"
        "或跳过它（launch.py queue skip）。"),
    "queue.cli_added": ("Queued {name} (id {id}), number {position} in the queue.",
                        "已将 {name} 加入队列（编号 {id}），排在第 {position} 位。"),
    "queue.cli_done": ("Queue run: {runs}", "队列运行结果：{runs}"),
    "queue.removed": ("Took {name} out of the queue.", "已将 {name} 移出队列。"),
    "queue.moved": ("{name} is now number {position} in the queue.", "{name} 现在排在队列第 {position} 位。"),
    "queue.skipped": ("Skipped {run}: the queue goes on (the run stays as it is; Resume still continues it).",
                      "已跳过 {run}：队列继续进行（该运行保持原样，之后仍可“继续”）。"),
    "queue.not_held": ("The queue is not waiting for any run.", "队列没有在等待任何运行。"),
    # webui/tab_train.py and webui/queue_panel.py: the queue on the Train tab
    "train.add_to_queue": ("Add to queue", "加入队列"),
    "queue.added": ("Added **{name}** to the queue (number {position}); it starts when the runs before it end.",
                    "已将 **{name}** 加入队列（第 {position} 位）；前面的运行结束后它会开始。"),
    "queue.held": (
        "**The queue waits.** Run **{run}** was interrupted when the studio stopped. Resume it, or Skip it to start "
        "the next queued run.",
        "**队列正在等待。** 工作室停止时，运行 **{run}** 被中断了。请继续它，或跳过它以开始队列中的下一个运行。"),
    "queue.empty": ("No run is queued. While a run trains, Start adds the form's run to the queue.",
                    "队列中没有运行。有运行正在训练时，“开始”会把表单中的运行加入队列。"),
    "queue.pick_first": ("Pick a queued run first.", "请先选择一个排队的运行。"),
    "queue.col.position": ("#", "#"),
    "queue.col.name": ("run", "运行"),
    "queue.col.method": ("method", "方法"),
    "queue.col.data": ("data", "数据"),
    "queue.col.added": ("added", "加入时间"),
    "queue.col.chain": ("chain · stage", "训练链 · 阶段"),
    # webui/tab_settings.py: a chain file loaded on the Settings tab
    "settings.chain_loaded": (
        "**{file}** is a chain of {count} stages, each a run started from the one before:\n\n{stages}\n\nThe form "
        "holds one run, so it is left as it was; the chain trains through the queue, one stage after another, and a "
        "stage that fails takes the later ones out.",
        "**{file}** 是一条含 {count} 个阶段的训练链，每个阶段是一次运行，从上一个阶段的结果开始：\n\n{stages}\n\n"
        "表单只对应一次运行，所以保持原样；训练链经由队列逐个阶段训练，某个阶段失败时，后面的阶段会被移出队列。"),
    "settings.chain_stage": ("{number}. **{stage}** ({run}): {method} on {data}",
                             "{number}. **{stage}**（{run}）：{method}，数据 {data}"),
    "settings.chain_start": ("Start the chain ({count} runs)", "开始训练链（{count} 次运行）"),
    "settings.chain_add": ("Add the chain to the queue ({count} runs)", "将训练链加入队列（{count} 次运行）"),
    "settings.chain_queued": ("Queued chain **{chain}**: {runs}; its first stage starts when the runs before it end.",
                              "已将训练链 **{chain}** 加入队列：{runs}；前面的运行结束后，它的第一个阶段就会开始。"),
    "settings.chain_started": ("Started **{run}**, the chain's first stage; the later stages ({rest}) wait in the "
                               "queue, each starting when the one before it completed.",
                               "已开始 **{run}**（训练链的第一个阶段）；后面的阶段（{rest}）在队列中等待，"
                               "每个阶段在前一个完成后开始。"),
    "settings.chain_gone": ("Load the chain file again: its copy is gone.",
                            "请重新加载训练链文件：之前载入的副本已不存在。"),
}
