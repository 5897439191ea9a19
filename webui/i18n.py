"""The studio's words in English and Simplified Chinese, for gr.I18n (the browser's language picks one).

Option labels and help lines come from core/config.py (English) and webui/option_text_zh.py (Chinese), so
they are written once; the rest of the interface's words are below.
"""

from __future__ import annotations

import dataclasses

import gradio as gr

from webui.form import SECTIONS, field_of
from webui.option_text_zh import OPTION_TEXT_ZH

UI_TEXT = {
    "app.title": ("# Finetune Studio", "# Finetune Studio 微调工作室"),
    "app.subtitle": ("Fine-tune a language model with LoRA on this machine: pick data, check the model, train, "
                     "then chat with the result. The defaults work as they are.",
                     "在本机用 LoRA 微调语言模型：选数据、看模型、训练，然后与结果对话。默认设置即可直接使用。"),
    "tab.data": ("1. Data", "1. 数据"),
    "data.intro": ("Upload a JSONL, JSON, CSV, Parquet or TXT file, or pick the bundled sample.",
                   "上传 JSONL、JSON、CSV、Parquet 或 TXT 文件，或选择内置示例。"),
    "data.upload": ("Upload a dataset (drag and drop)", "上传数据集（可拖放）"),
    "data.sample": ("…or use a bundled sample", "……或使用内置示例"),
    "data.preview": ("First rows", "前几行"),
    "data.example": ("First example, exactly as the model sees it (chat template applied)",
                     "第一个样本，即模型实际看到的样子（已套用对话模板）"),
    "tab.model": ("2. Model and hardware", "2. 模型与硬件"),
    "model.check_placement": ("Load and show where the layers go", "加载模型并查看各层的位置"),
    "model.hardware": ("### This machine", "### 本机硬件"),
    "tab.settings": ("3. LoRA and training", "3. LoRA 与训练"),
    "settings.preset": ("Preset", "预设"),
    "settings.preset_help": ("Sets epochs, rank and max length together; 'balanced' is the default.",
                             "一次设置训练轮数、秩和最大长度；默认为“均衡”。"),
    "preset.quick": ("Quick demo", "快速演示"),
    "preset.balanced": ("Balanced", "均衡"),
    "preset.thorough": ("Thorough", "充分"),
    "settings.lora": ("### LoRA adapter", "### LoRA 适配器"),
    "settings.find_layers": ("Find the layers in this model", "查找该模型中的层"),
    "settings.training": ("### Training", "### 训练"),
    "settings.more": ("More training options", "更多训练选项"),
    "settings.save": ("Save settings as YAML", "将设置保存为 YAML"),
    "settings.load": ("Load settings from YAML", "从 YAML 加载设置"),
    "settings.command": ("The same run from the command line", "在命令行中运行同样的训练"),
    "settings.saved_file": ("Settings file", "设置文件"),
    "tab.train": ("4. Train", "4. 训练"),
    "train.start": ("Start training", "开始训练"),
    "train.stop": ("Stop (saves the adapter)", "停止（会保存适配器）"),
    "train.resume": ("Resume the run shown", "继续当前显示的运行"),
    "train.chart": ("Loss", "损失"),
    "train.log": ("Log", "日志"),
    "train.history": ("Past runs", "历史运行"),
    "train.pick_run": ("Show a past run", "查看历史运行"),
    "tab.chat": ("5. Chat", "5. 对话"),
    "chat.model": ("Talk to", "对话对象"),
    "chat.refresh": ("Refresh the list", "刷新列表"),
    "chat.adapter_on": ("Adapter on (off = the base model)", "启用适配器（关闭即为基础模型）"),
    "chat.side_by_side": ("Side by side: tuned and base answer the same prompt",
                          "并排对比：微调后与基础模型回答同一问题"),
    "chat.tuned": ("Fine-tuned", "微调后"),
    "chat.base": ("Base model", "基础模型"),
    "chat.placeholder": ("Ask something, e.g. “Who are you?”", "问点什么，例如“你是谁？”"),
    "chat.send": ("Send", "发送"),
    "chat.clear": ("Clear", "清空"),
}


def option_texts() -> tuple[dict, dict]:
    """English and Chinese label/help entries for every option, keyed 'train.epochs.label' and '.help'."""
    en, zh = {}, {}
    keys = ["name"] + [f"{prefix}.{f.name}" for prefix, section in SECTIONS.items()
                       for f in dataclasses.fields(section)]
    for key in keys:
        meta = field_of(key).metadata
        en[f"{key}.label"], en[f"{key}.help"] = meta["label"], meta["help"]
        zh[f"{key}.label"], zh[f"{key}.help"] = OPTION_TEXT_ZH[key]
    return en, zh


def build_i18n() -> gr.I18n:
    en, zh = option_texts()
    en.update({key: texts[0] for key, texts in UI_TEXT.items()})
    zh.update({key: texts[1] for key, texts in UI_TEXT.items()})
    return gr.I18n(en=en, **{"zh-CN": zh, "zh": zh})
