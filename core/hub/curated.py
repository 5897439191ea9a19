"""The curated models the picker lists: the instruction models people fine-tune, each with its config.json shipped
in assets/models/ (so the memory estimate needs no download), its size on disk, license, whether the hub gates it,
and the chat template family it speaks.

Sizes are the bfloat16 safetensors a download brings: the parameters counted from the shipped config (the
skeleton core.measure.memory_estimate builds) times 2 bytes, in GB of 10^9 bytes as the hubs show them; the two
built-ins are their converted folders as measured. ModelScope ids are given where ModelScope names the model
differently (the Llama, Gemma, Mistral and Phi repos live under LLM-Research or AI-ModelScope there); the others
keep the Hugging Face id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.hub.settings import official_address

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "models"


@dataclass(frozen=True)
class Curated:
    hub_id: str             # the Hugging Face id; also what model.source takes for a download
    size_gb: float          # on disk, bfloat16 safetensors
    license: str
    gated: bool             # the Hugging Face page asks the user to accept the license before downloading
    family: str             # the chat template family
    modelscope_id: str = ""  # where ModelScope names it differently; empty: the same id
    source: str = ""        # the model.source value: the hub id, or a built-in's name ("default", "gemma-3-270m")

    @property
    def value(self) -> str:
        return self.source or self.hub_id

    @property
    def builtin(self) -> bool:
        return bool(self.source)

    def id_on(self, hub: str) -> str:
        return self.modelscope_id or self.hub_id if hub == "modelscope" else self.hub_id

    def config_dir(self) -> Path:
        name = f"builtin__{self.hub_id.rsplit('/', 1)[-1]}" if self.builtin else self.hub_id.replace("/", "__")
        return ASSETS / name

    def license_page(self) -> str:
        """Where a gated model's license is accepted: its page on Hugging Face."""
        return f"{official_address('huggingface')}/{self.hub_id}"


APACHE, QWEN_RESEARCH, MIT = "Apache-2.0", "Qwen Research License", "MIT"
LLAMA31, LLAMA32, GEMMA = "Llama 3.1 Community License", "Llama 3.2 Community License", "Gemma Terms of Use"

CURATED: tuple[Curated, ...] = (
    Curated("HuggingFaceTB/SmolLM2-135M-Instruct", 0.27, APACHE, False, "chatml", source="default"),
    Curated("google/gemma-3-270m", 0.57, GEMMA, False, "none (pretrained)", source="gemma-3-270m"),
    Curated("Qwen/Qwen2.5-0.5B-Instruct", 0.99, APACHE, False, "chatml (qwen2.5)"),
    Curated("Qwen/Qwen2.5-1.5B-Instruct", 3.09, APACHE, False, "chatml (qwen2.5)"),
    Curated("Qwen/Qwen2.5-3B-Instruct", 6.17, QWEN_RESEARCH, False, "chatml (qwen2.5)"),
    Curated("Qwen/Qwen2.5-7B-Instruct", 15.23, APACHE, False, "chatml (qwen2.5)"),
    Curated("Qwen/Qwen2.5-14B-Instruct", 29.54, APACHE, False, "chatml (qwen2.5)"),
    Curated("Qwen/Qwen3-0.6B", 1.19, APACHE, False, "qwen3 (chatml, thinking)"),
    Curated("Qwen/Qwen3-1.7B", 3.44, APACHE, False, "qwen3 (chatml, thinking)"),
    Curated("Qwen/Qwen3-4B", 8.04, APACHE, False, "qwen3 (chatml, thinking)"),
    Curated("Qwen/Qwen3-8B", 16.38, APACHE, False, "qwen3 (chatml, thinking)"),
    Curated("Qwen/Qwen3-14B", 29.54, APACHE, False, "qwen3 (chatml, thinking)"),
    Curated("meta-llama/Llama-3.1-8B-Instruct", 16.06, LLAMA31, True, "llama3",
            modelscope_id="LLM-Research/Meta-Llama-3.1-8B-Instruct"),
    Curated("meta-llama/Llama-3.2-1B-Instruct", 2.47, LLAMA32, True, "llama3",
            modelscope_id="LLM-Research/Llama-3.2-1B-Instruct"),
    Curated("meta-llama/Llama-3.2-3B-Instruct", 6.43, LLAMA32, True, "llama3",
            modelscope_id="LLM-Research/Llama-3.2-3B-Instruct"),
    Curated("google/gemma-3-1b-it", 2.0, GEMMA, True, "gemma", modelscope_id="LLM-Research/gemma-3-1b-it"),
    Curated("google/gemma-3-4b-it", 8.6, GEMMA, True, "gemma", modelscope_id="LLM-Research/gemma-3-4b-it"),
    Curated("google/gemma-3-12b-it", 24.37, GEMMA, True, "gemma", modelscope_id="LLM-Research/gemma-3-12b-it"),
    Curated("mistralai/Mistral-7B-Instruct-v0.3", 14.5, APACHE, True, "mistral ([INST])",
            modelscope_id="LLM-Research/Mistral-7B-Instruct-v0.3"),
    Curated("mistralai/Mistral-Nemo-Instruct-2407", 24.5, APACHE, True, "mistral ([INST], tekken)",
            modelscope_id="AI-ModelScope/Mistral-Nemo-Instruct-2407"),
    Curated("microsoft/Phi-4-mini-instruct", 7.67, MIT, False, "phi4 (<|user|> ... <|end|>)",
            modelscope_id="LLM-Research/Phi-4-mini-instruct"),
    Curated("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", 3.55, MIT, False, "deepseek-r1 (<think>)"),
    Curated("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 15.23, MIT, False, "deepseek-r1 (<think>)"),
    Curated("HuggingFaceTB/SmolLM2-135M-Instruct", 0.27, APACHE, False, "chatml"),
    Curated("HuggingFaceTB/SmolLM2-360M-Instruct", 0.72, APACHE, False, "chatml"),
    Curated("HuggingFaceTB/SmolLM2-1.7B-Instruct", 3.42, APACHE, False, "chatml"),
)


def find(value: str) -> Curated | None:
    """The curated entry a model.source value names (a built-in's name, a hub id or its ModelScope id), if any."""
    return next((entry for entry in CURATED if value in (entry.value, entry.modelscope_id or entry.value)), None)
