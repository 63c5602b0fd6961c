"""What an LLM answerer reads: the system prompt and the numbered passages that fit its budget."""

from __future__ import annotations

from rag.answerer import passage_label
from rag.store import Hit
from rag.text import count_cjk

SYSTEM_PROMPT = (
    "You answer questions using only the numbered passages you are given.\n"
    "First copy, word for word, the sentence of a passage that answers the question:\n"
    "Quote [n]: <the sentence, exactly as passage n writes it>\n"
    "Then answer briefly, citing that passage:\n"
    "Answer: <the answer> [n]\n"
    "If no passage answers the question, write only: The documents do not answer this "
    "question. Do not guess. Answer in the language of the question.\n\n"
    # A worked example: small local models follow an example far better than a rule, and the
    # quote lets rag check the answer against its passage (support.py).
    "Example:\nPassages:\n[1] (parking.md)\nParking is free on weekends.\n[2] (shop.md)\n"
    "Welcome to the shop. The shop opens at 9 am and closes at 6 pm.\n"
    "Question: When does the shop open?\n"
    "Quote [2]: The shop opens at 9 am and closes at 6 pm.\n"
    "Answer: At 9 am [2].\n\n"
    # and one in Chinese: without it a small model answers Chinese questions with no quote
    "Example:\nPassages:\n[1] (leave.md)\n年假申请须提前两周提交。员工每年享有十五天带薪年假。\n"
    "Question: 每年有几天年假？\n"
    "Quote [1]: 员工每年享有十五天带薪年假。\n"
    "Answer: 十五天 [1]。\n\n"
    "Always begin with the Quote line, copied in the passage's own language."
)


def approx_tokens(text: str) -> int:
    """Tokens an LLM will see, without its tokenizer: one per CJK character, one per four
    other characters. Used only to budget the context, so it errs high for English."""
    cjk = count_cjk(text)
    return cjk + (len(text) - cjk + 3) // 4


def select_passages(hits: list[Hit], context_tokens: int, max_passages: int) -> list[Hit]:
    """Best-first passages until the token budget is spent (the first always fits: it is
    cut to the budget rather than dropped)."""
    chosen: list[Hit] = []
    used = 0
    for hit in hits[:max_passages]:
        cost = approx_tokens(hit.payload.get("text", "")) + 12  # label and spacing
        if chosen and used + cost > context_tokens:
            break
        chosen.append(hit)
        used += cost
    return chosen


def build_messages(question: str, passages: list[Hit], context_tokens: int) -> list[dict]:
    blocks = []
    budget = context_tokens
    for i, hit in enumerate(passages, 1):
        text = " ".join(hit.payload.get("text", "").split())
        while approx_tokens(text) > budget and len(text) > 1:
            text = text[: int(len(text) * 0.9)]
        budget -= approx_tokens(text)
        blocks.append(f"[{i}] ({passage_label(hit)})\n{text}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]
