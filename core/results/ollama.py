"""An Ollama Modelfile for an exported model: its chat template in Ollama's Go-template form, and its stop tokens.

Without the template and the stop token, other runtimes feed the model plain text and it rambles past the end of
its turn. Ollama cannot run Jinja, so the template is taken apart by rendering it: each role's text before and
after a sentinel content gives that role's wrapper. The pieces are then checked by rebuilding a whole
conversation from them; a template that does not decompose this way (dates, tools, per-position logic) gets a
Modelfile without TEMPLATE and a comment saying so, never a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.catalogue.message import StudioError, message
from core.data.templates import turn_end_ids

SENTINEL = "\u2063SENTINEL\u2063"  # invisible separator around a word no template contains


@dataclass
class Wrappers:
    roles: dict[str, tuple[str, str]]  # role -> (text before the content, text after)
    generation_prompt: str  # what opens the assistant's turn
    default_system: str  # a system prompt the template adds when the conversation has none


def decompose(tokenizer) -> Wrappers | None:
    """The per-role wrappers of the tokenizer's chat template, or None if the template is not that simple."""
    def render(messages, generation=False):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)

    def split(piece: str) -> tuple[str, str]:
        if piece.count(SENTINEL) != 1:
            raise ValueError("content not found once")
        before, after = piece.split(SENTINEL)
        return before, after

    system = [{"role": "system", "content": SENTINEL}]
    user = [{"role": "user", "content": SENTINEL}]
    assistant = [{"role": "assistant", "content": SENTINEL}]
    try:
        only_system = render(system)
        with_user = render(system + user)
        with_assistant = render(system + user + assistant)
        asking = render(system + user, generation=True)
        if not (with_user.startswith(only_system) and with_assistant.startswith(with_user)
                and asking.startswith(with_user)):
            return None
        roles = {"system": split(only_system), "user": split(with_user[len(only_system):]),
                 "assistant": split(with_assistant[len(with_user):])}
        generation_prompt = asking[len(with_user):]
        default_system = ""
        user_alone = render([{"role": "user", "content": "Hi"}])
        before_user = user_alone[: len(user_alone) - len(roles["user"][0] + "Hi" + roles["user"][1])]
        if before_user:  # the template adds its own system turn; keep it as Ollama's SYSTEM
            system_before, system_after = roles["system"]
            if not (before_user.startswith(system_before) and before_user.endswith(system_after)):
                return None
            default_system = before_user[len(system_before): len(before_user) - len(system_after)]
        wrappers = Wrappers(roles, generation_prompt, default_system)
        return wrappers if _rebuilds(wrappers, render) else None
    except Exception:  # templates raise their own errors for layouts they refuse (e.g. system not first)
        return None


def _rebuilds(wrappers: Wrappers, render) -> bool:
    """The pieces give back exactly what the template renders for a longer conversation."""
    conversation = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Who are you?"}]
    rebuilt = "".join(wrappers.roles[m["role"]][0] + m["content"] + wrappers.roles[m["role"]][1]
                      for m in conversation) + wrappers.generation_prompt
    return rebuilt == render(conversation, generation=True)


def stop_tokens(tokenizer, wrappers: Wrappers | None) -> list[str]:
    """The template's end-of-turn token(s) and EOS: the ids the studio stops on, as text."""
    stops = []
    if wrappers:
        end_of_turn = wrappers.roles["assistant"][1].strip()
        if end_of_turn:
            stops.append(end_of_turn)
    for token in tokenizer.convert_ids_to_tokens(sorted(turn_end_ids(tokenizer))):
        if token and token not in stops:
            stops.append(token)
    return stops


def go_template(wrappers: Wrappers) -> str:
    """The wrappers as an Ollama template over .Messages."""
    def branch(role: str) -> str:
        before, after = wrappers.roles[role]
        return f"{_go_text(before)}{{{{ .Content }}}}{_go_text(after)}"

    # No "{{-" trim markers: they would also eat the newlines that belong to the template's own text.
    return ("{{ range .Messages }}"
            f"{{{{ if eq .Role \"system\" }}}}{branch('system')}"
            f"{{{{ else if eq .Role \"user\" }}}}{branch('user')}"
            f"{{{{ else if eq .Role \"assistant\" }}}}{branch('assistant')}"
            "{{ end }}{{ end }}"
            f"{_go_text(wrappers.generation_prompt)}")


def _go_text(text: str) -> str:
    # Go templates have no escape for "{{" in plain text; print it as a string constant instead.
    return text.replace("{{", '{{ "{{" }}')


def modelfile(tokenizer, source: str, adapter: str | None = None) -> str:
    """The Modelfile text: FROM the weights (and ADAPTER when the adapter ships separately), template, stops."""
    wrappers = decompose(tokenizer)
    lines = ["# Ollama Modelfile written by Finetune Studio. Create the model with:",
             "#   ollama create my-model -f Modelfile", f"FROM {source}"]
    if adapter:
        lines.append(f"ADAPTER {adapter}")
    if wrappers is None:
        lines.append("# The chat template could not be turned into Ollama's form (see chat_template.jinja); "
                     "write a TEMPLATE by hand or the model will ramble.")
    else:
        lines.append(f'TEMPLATE """{go_template(wrappers)}"""')
        if wrappers.default_system:
            lines.append(f'SYSTEM """{wrappers.default_system}"""')
    for stop in stop_tokens(tokenizer, wrappers):
        lines.append(f'PARAMETER stop "{stop}"')
    return "\n".join(lines) + "\n"


# ---- sending an export to a local Ollama (offered only where the `ollama` command is on the PATH) ----------------

OLLAMA_TEST_PROMPT = "Who are you? Answer in one line."


class OllamaError(StudioError, RuntimeError):
    """`ollama create` or the test run failed; the message holds Ollama's own last words."""


def ollama_available() -> bool:
    import shutil

    return shutil.which("ollama") is not None


def ollama_name(name: str) -> str:
    """A model name Ollama accepts: lower case letters, digits, '-', '_' and '.'."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name.lower()).strip("-.")
    return cleaned or "finetuned"


def ollama_commands(name: str, modelfile: str, prompt: str = OLLAMA_TEST_PROMPT) -> list[list[str]]:
    """`ollama create NAME -f MODELFILE`, then a one-line test: `ollama run NAME PROMPT`."""
    return [["ollama", "create", ollama_name(name), "-f", str(modelfile)], ["ollama", "run", ollama_name(name), prompt]]


def send_to_ollama(name: str, modelfile: str, timeout: float = 1800) -> str:
    """Create the model in the local Ollama from the Modelfile (run from its folder, so FROM ./file.gguf resolves)
    and return its answer to the test prompt."""
    import subprocess
    from pathlib import Path

    folder = Path(modelfile).resolve().parent
    output = ""
    for command in ollama_commands(name, Path(modelfile).name):
        try:
            result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise OllamaError("results.ollama.unfinished", command=" ".join(command[:3]), error=str(err)) from None
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise OllamaError("results.ollama.failed", command=" ".join(command[:3]),
                              reason=last[0] if last else message("results.ollama.no_output"))
        output = result.stdout.strip()
    return output
