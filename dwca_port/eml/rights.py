"""The intellectualRights paragraph: free text, licence link and rights holder in one <para>.

The GBIF profile allows one para holding at most one ulink, and GBIF reads the licence only from
that ulink's url. EML has no rights-holder element, so the holder travels as a fixed sentence
after the link, where the reader can find it again (it runs to the end of the paragraph, so a
holder may contain any punctuation):

    <para>{text} This work is licensed under a <ulink url="{url}"><citetitle>{title}</citetitle></ulink>.
      Rights holder: {holder}</para>      (one line in the document)

"This work is licensed under a " is the IPT's own wording, so IPT documents read back cleanly.
"""

from __future__ import annotations

from typing import NamedTuple

LICENCE_LEAD = "This work is licensed under a "
RIGHTS_HOLDER_LEAD = "Rights holder: "


class RightsParagraph(NamedTuple):
    before_link: str  # the para's text; all of it when there is no licence link
    after_link: str | None  # the link's tail; None means "write no link"


def compose(intellectual_rights: str, has_licence: bool, rights_holder: str) -> RightsParagraph | None:
    holder_sentence = f"{RIGHTS_HOLDER_LEAD}{rights_holder.strip()}" if rights_holder.strip() else ""
    text = intellectual_rights.strip()
    if has_licence:
        before = f"{text} {LICENCE_LEAD}" if text else LICENCE_LEAD
        after = "." + (f" {holder_sentence}" if holder_sentence else "")
        return RightsParagraph(before, after)
    if not text and not holder_sentence:
        return None
    return RightsParagraph(" ".join(part for part in (text, holder_sentence) if part), None)


def _split_holder(text: str) -> tuple[str, str]:
    """(text without the holder sentence, holder) for text that may end in "Rights holder: X"."""
    at = text.rfind(RIGHTS_HOLDER_LEAD)
    if at < 0 or (at > 0 and not text[at - 1].isspace()):
        return text, ""
    return text[:at].strip(), text[at + len(RIGHTS_HOLDER_LEAD) :].strip()


def decompose(before_link: str, after_link: str | None) -> tuple[str, str]:
    """(intellectual-rights text, rights holder) from a paragraph; the inverse of compose()."""
    before = before_link.strip()
    if after_link is None:
        return _split_holder(before)
    lead = LICENCE_LEAD.strip()
    text = before[: -len(lead)].strip() if before.endswith(lead) else before
    after = after_link.strip()
    after = after[1:].strip() if after.startswith(".") else after
    rest, holder = _split_holder(after)
    return " ".join(part for part in (text, rest) if part), holder
