"""Messages of core/hub: downloads, mirrors, hub tokens, the model picker."""

TEXTS: dict[str, tuple[str, str]] = {
    # ---- the model picker (core/hub/curated.py, core/measure/model_fit.py, webui/model_picker.py) and the hub
    # settings of the studio (webui/tab_settings.py)
    "measure.model_fit.gpu0": ("fits on GPU 0", "GPU 0 上放得下"),
    "measure.model_fit.four_bit": ("fits in 4-bit", "4 位量化后放得下"),
    "measure.model_fit.gpus": ("needs {count} GPUs ({strategy})", "需要 {count} 块 GPU（{strategy}）"),
    "measure.model_fit.gpus_four_bit": (
        "needs {count} GPUs in 4-bit ({strategy})", "4 位量化后需要 {count} 块 GPU（{strategy}）"),
    "measure.model_fit.cpu": ("no GPU: trains on the CPU, slowly", "没有 GPU：可以在 CPU 上训练，但很慢"),
    "measure.model_fit.too_big": ("too big for this machine", "这台机器放不下"),
    "measure.model_fit.with_checkpointing": (
        "{fit}, with gradient checkpointing on", "{fit}（需开启梯度检查点）"),
    "measure.model_fit.cell_gpu0": ("GPU 0 · {need:.1f} GB", "GPU 0 · {need:.1f} GB"),
    "measure.model_fit.cell_gpus": ("{count} GPUs · {need:.1f} GB", "{count} 块 GPU · {need:.1f} GB"),
    "measure.model_fit.cell_cpu": ("CPU · {need:.1f} GB", "CPU · {need:.1f} GB"),
    "measure.model_fit.cell_too_big": ("✗ {need:.1f} GB", "✗ {need:.1f} GB"),
    "hub.picker.heading": ("### Pick a model", "### 选择模型"),
    "hub.picker.intro": (
        "Click a row to use that model. What it needs here is the memory estimate for this machine's GPUs at the "
        "batch size and length set on tab 3, worked out from each model's config alone (nothing is downloaded).",
        "点击一行即可选用该模型。“在这台机器上”一栏是按第 3 页设置的批大小和长度、针对本机 GPU 估算的显存，"
        "只依据模型的配置文件计算（不会下载任何东西）。"),
    "hub.picker.col_model": ("model", "模型"),
    "hub.picker.col_size": ("size on disk", "磁盘占用"),
    "hub.picker.col_license": ("license", "许可证"),
    "hub.picker.col_gated": ("gated", "需授权"),
    "hub.picker.col_family": ("chat template", "对话模板"),
    "hub.picker.col_verdict": ("on this machine", "在这台机器上"),
    "hub.picker.col_lora": ("LoRA bf16", "LoRA bf16"),
    "hub.picker.col_qlora": ("QLoRA 4-bit", "QLoRA 4 位"),
    "hub.picker.col_full": ("full tuning", "全量微调"),
    "hub.picker.yes": ("yes", "是"),
    "hub.picker.no": ("no", "否"),
    "hub.picker.builtin": ("{name} (built-in)", "{name}（内置）"),
    "hub.picker.assumes": (
        "Estimated at batch {batch} × {length} tokens (every row that long), on {machine}.",
        "按批大小 {batch} × {length} 个 token（假设每行都这么长）估算，机器：{machine}。"),
    "hub.picker.machine_gpu": ("GPU {index} ({free:.0f} GB free)", "GPU {index}（空闲 {free:.0f} GB）"),
    "hub.picker.machine_cpu": (
        "this machine without a GPU ({ram:.0f} GB of memory free)", "这台没有 GPU 的机器（空闲内存 {ram:.0f} GB）"),
    "hub.picker.picked": (
        "**{id}**: {size:.1f} GB on disk, {license}; {verdict}. {state}",
        "**{id}**：磁盘占用 {size:.1f} GB，{license}；{verdict}。{state}"),
    "hub.picker.downloaded": ("Downloaded: {folder}", "已下载：{folder}"),
    "hub.picker.to_download": (
        "Not downloaded yet: it comes from {address} before training starts (Download on tab 2 fetches it now, with "
        "its progress).",
        "尚未下载：开始训练前会先从 {address} 取回（在第 2 页点击“下载”可以现在就取回，并显示进度）。"),
    "hub.picker.curated_choice": ("{id} · {size:.1f} GB", "{id} · {size:.1f} GB"),
    "hub.picker.builtin_note": (
        "A built-in model: fetched from PyPI the first time it is used.", "内置模型：第一次使用时从 PyPI 获取。"),
    "hub.picker.gated_note": (
        "{id} is gated: accept its license at {page} while logged in, and put your hub token in tab 3's "
        "“Where models come from”.",
        "{id} 需要授权访问：请登录后在 {page} 接受它的许可协议，并在第 3 页的“模型从哪里下载”中填入访问令牌。"),
    "hub.picker.pick_first": (
        "Pick a model in the list, or type a hub id in the base model box, first.",
        "请先在列表中选择一个模型，或在“基础模型”框中输入模型 ID。"),
    "hub.picker.not_downloadable": (
        "{source} is not a hub id (a local folder or a built-in model): there is nothing to download.",
        "{source} 不是模型仓库 ID（而是本地文件夹或内置模型）：无需下载。"),
    "hub.picker.download": ("Download", "下载"),
    "hub.picker.cancel": ("Cancel", "取消"),
    "hub.picker.starting": ("Starting the download of {id} ...", "正在开始下载 {id}……"),
    "hub.picker.downloaded_choice": ("{name} (downloaded)", "{name}（已下载）"),
    "hub.settings_ui.title": ("Where models come from", "模型从哪里下载"),
    "hub.settings_ui.hub": ("Hub", "模型仓库"),
    "hub.settings_ui.hub_help": (
        "Where downloads come from; kept for this machine. Where the Hugging Face hub is blocked, choose ModelScope "
        "or a mirror.",
        "下载的来源；在这台机器上保留。无法访问 Hugging Face 时，请选择 ModelScope 或镜像。"),
    "hub.settings_ui.huggingface": ("Hugging Face", "Hugging Face"),
    "hub.settings_ui.modelscope": ("ModelScope", "ModelScope（魔搭）"),
    "hub.settings_ui.mirror": ("A mirror of Hugging Face", "Hugging Face 的镜像"),
    "hub.settings_ui.endpoint": ("Mirror address", "镜像地址"),
    "hub.settings_ui.endpoint_help": (
        "The mirror's address, such as https://mirror.example.org (only with “A mirror of Hugging Face”).",
        "镜像的地址，例如 https://mirror.example.org（仅在选择“Hugging Face 的镜像”时使用）。"),
    "hub.settings_ui.token": ("Hub token (for gated models)", "访问令牌（用于需授权的模型）"),
    "hub.settings_ui.token_help": (
        "Stored where the hub's own client keeps it (as `hf auth login` does); never shown again and never written "
        "into a run, config or log. Leave empty to keep the stored one.",
        "保存在模型仓库客户端自己的位置（与 `hf auth login` 相同）；不会再次显示，也不会写入训练记录、配置或日志。"
        "留空则保留已保存的令牌。"),
    "hub.settings_ui.save": ("Keep these hub settings", "保存这些下载设置"),
    "hub.settings_ui.forget": ("Remove the stored token", "删除已保存的令牌"),
    "hub.settings_ui.saved": ("Kept: downloads come from {address}.", "已保存：今后从 {address} 下载。"),
    "hub.settings_ui.token_stored": ("A hub token is stored for {hub}.", "已为 {hub} 保存访问令牌。"),
    "hub.settings_ui.no_token": ("No hub token is stored for {hub}.", "尚未为 {hub} 保存访问令牌。"),
    "hub.settings_ui.need_endpoint": (
        "Type the mirror's address (such as https://mirror.example.org) to use a mirror.",
        "使用镜像时请填写镜像地址（例如 https://mirror.example.org）。"),
    # ---- core/hub/settings.py: the hub choice
    "hub.settings.unknown_hub": (
        "Unknown hub {hub!r}: choose one of {hubs}.",
        "未知的模型仓库 {hub!r}：请从 {hubs} 中选择。"),
    "hub.settings.bad_endpoint": (
        "The mirror address {endpoint!r} must start with http:// or https:// (for example https://mirror.example.org).",
        "镜像地址 {endpoint!r} 必须以 http:// 或 https:// 开头（例如 https://mirror.example.org）。"),
    # ---- core/hub/download.py: progress lines, then the refusals
    "hub.download.fetching": (
        "Downloading {id} from {address} into {folder} ...",
        "正在从 {address} 下载 {id} 到 {folder}……"),
    "hub.download.progress": (
        "{done} of {total} ({percent}%), {speed}/s, {left} left: {file}",
        "已下载 {done} / {total}（{percent}%），{speed}/秒，剩余 {left}：{file}"),
    "hub.download.done": ("{id} downloaded: {folder}", "{id} 已下载：{folder}"),
    "hub.download.bad_id": (
        "{id!r} is not a hub id: a hub id looks like organisation/name (for example Qwen/Qwen2.5-0.5B-Instruct).",
        "{id!r} 不是模型仓库的 ID：ID 的形式是 组织/名称（例如 Qwen/Qwen2.5-0.5B-Instruct）。"),
    "hub.download.unknown_id": (
        "{address} has no {id}. Check the spelling (organisation/name, as on the model's page); if it is private, "
        "add a hub token in Settings or with `hf auth login`.",
        "{address} 上没有 {id}。请检查拼写（组织/名称，与模型页面上一致）；如果它是私有的，请在“设置”中添加访问令牌，"
        "或运行 `hf auth login`。"),
    "hub.download.gated_no_token": (
        "{id} is gated: accept its license at {page} while logged in, then add your hub token in Settings (or run "
        "`hf auth login`) and download again.",
        "{id} 需要授权访问：请登录后在 {page} 接受它的许可协议，然后在“设置”中添加访问令牌（或运行 `hf auth login`），"
        "再重新下载。"),
    "hub.download.gated_denied": (
        "Your hub token has no access to {id} yet: accept its license at {page} with the account the token belongs "
        "to (approval can take a while), then download again.",
        "你的访问令牌还不能访问 {id}：请用令牌所属的账号在 {page} 接受它的许可协议（审批可能需要一段时间），"
        "然后重新下载。"),
    "hub.download.bad_token": (
        "{address} refused the stored hub token (invalid or expired). Create a new one (read access is enough) and "
        "put it in Settings, or remove it to download public models without one.",
        "{address} 拒绝了保存的访问令牌（无效或已过期）。请新建一个令牌（只读权限即可）填入“设置”，"
        "或删除它以不用令牌下载公开模型。"),
    "hub.download.no_network": (
        "Cannot reach {address} ({reason}). Check the network; where the Hugging Face hub is blocked, choose "
        "ModelScope or a mirror (such as https://mirror.example.org) as the hub in Settings or with --hub / "
        "--endpoint.",
        "无法连接 {address}（{reason}）。请检查网络；在无法访问 Hugging Face 的地方，请在“设置”中或用 "
        "--hub / --endpoint 选择 ModelScope 或镜像（例如 https://mirror.example.org）。"),
    "hub.download.mirror_html": (
        "{address} answered with a web page instead of the hub's API ({reason}): it is not a hub mirror's address, "
        "or the mirror is down. Use the address the mirror documents (such as https://mirror.example.org), without a "
        "path.",
        "{address} 返回的是网页而不是模型仓库的 API（{reason}）：这不是镜像的地址，或镜像暂时不可用。"
        "请使用镜像文档中给出的地址（例如 https://mirror.example.org），不要带路径。"),
    "hub.download.no_room": (
        "Not enough disk space to download {id}: it needs {needed} more, and {folder} has {free} free. Free some "
        "space, or point FINETUNE_STUDIO_CACHE at a bigger disk.",
        "磁盘空间不足，无法下载 {id}：还需要 {needed}，而 {folder} 只剩 {free}。请清理空间，"
        "或把 FINETUNE_STUDIO_CACHE 指向更大的磁盘。"),
    "hub.download.cancelled": (
        "Download stopped. What was downloaded is kept: start it again to resume where it stopped.",
        "下载已停止。已下载的部分会保留：再次开始即可从中断处继续。"),
    "hub.download.busy": (
        "{id} is already being downloaded (by the studio or another launch.py download); wait for that one.",
        "{id} 正在被下载（由工作室或另一个 launch.py download）；请等它完成。"),
    "hub.download.empty": ("{address} lists no files for {id}.", "{address} 上的 {id} 没有任何文件。"),
    "hub.download.size_mismatch": (
        "{file} arrived with {got} bytes instead of {expected}: the transfer was cut or the mirror serves another "
        "version. Download again; it resumes from the whole files.",
        "{file} 收到 {got} 字节，而应为 {expected} 字节：传输中断了，或镜像提供的是另一个版本。"
        "请重新下载；已完整的文件不会重下。"),
    "hub.download.failed": (
        "Could not download {id} from {address}: {reason}",
        "无法从 {address} 下载 {id}：{reason}"),
    "hub.download.modelscope_missing": (
        "Downloading from ModelScope needs its hub client: pip install modelscope-hub",
        "从 ModelScope 下载需要它的客户端：pip install modelscope-hub"),
}
