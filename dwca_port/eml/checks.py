"""The EML checks of the validator checklist (reference dwca-standards.md section 4, items 41-47).

41 well-formed and safe (BLOCKING) · 42 valid against the declared schema, with a schemaLocation
the GBIF validator can read (WARNING EML_GBIF_SCHEMA) · 43 a GBIF licence in
intellectualRights/para/ulink/@url (BLOCKING LICENSE_MISSING_OR_UNKNOWN) · 44 title, abstract and
citable authors (WARNING) · 45 pubDate, contact, creator, scope and packageId (WARNING) · 47 no
e-mail addresses, no personal names without consent (LOCAL). Item 46, coverage against the data,
belongs to the archive validator, which has the data; it reads the coverage with read_eml.
"""

from __future__ import annotations

import re

from lxml import etree

from dwca_port.findings import Finding, Severity
from dwca_port.schemas import load_schema

from .document import (
    EML_2_1_1_NAMESPACE,
    EML_NAMESPACE,
    SCHEMA_FOR_NAMESPACE,
    SCHEMA_LOCATION,
    XSI_NAMESPACE,
    DeclaredSchema,
    EmlError,
    UnsafeXml,
    declared_schema,
    local_name,
    parse_document,
)
from .licences import GBIF_LICENCES, Licence, parse_licence

MIN_TITLE_LENGTH = 10  # GBIF TITLE_MISSING_OR_TOO_SHORT
MIN_DESCRIPTION_LENGTH = 25  # GBIF DESCRIPTION_MISSING_OR_TOO_SHORT
MAX_SCHEMA_ERRORS = 20  # a broken document can yield hundreds; the first ones tell the story

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_ACCEPTED = ", ".join(licence.short_name for licence in GBIF_LICENCES)


class _Context:
    """One document being checked: where findings go and the parts most checks need."""

    def __init__(self, tree: etree._ElementTree, member: str):
        self.tree = tree
        self.root = tree.getroot()
        self.member = member
        self.dataset = _child(self.root, "dataset")
        self.findings: list[Finding] = []

    def report(self, item: int, code: str, severity: Severity, message: str, element=None) -> None:
        line = element.sourceline if element is not None else None
        self.findings.append(
            Finding(item=item, code=code, severity=severity, message=message, file=self.member, line=line)
        )


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    if parent is None:
        return None
    return next((child for child in parent if local_name(child) == name), None)


def _children(parent: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if parent is None else [child for child in parent if local_name(child) == name]


def _text(element: etree._Element | None) -> str:
    return "" if element is None else " ".join("".join(element.itertext()).split())


# 42 -------------------------------------------------------------------------------------------


def _schema_to_validate(context: _Context) -> DeclaredSchema | None:
    """The schema the document declares; problems with the declaration are reported on the way."""
    root, namespace = context.root, etree.QName(context.root).namespace
    fallback = SCHEMA_FOR_NAMESPACE.get(namespace)

    def warn(message: str) -> None:
        context.report(42, "EML_GBIF_SCHEMA", Severity.WARNING, message, root)

    if fallback is None or local_name(root) != "eml":
        warn(f"the root element is {root.tag!r}, not eml:eml in namespace {EML_NAMESPACE}")
        return None
    location = root.get(f"{{{XSI_NAMESPACE}}}schemaLocation")
    if location is None:
        warn(f'no xsi:schemaLocation; write xsi:schemaLocation="{SCHEMA_LOCATION}"')
        return fallback
    prefixes = [prefix for prefix, uri in root.nsmap.items() if uri == XSI_NAMESPACE]
    if "xsi" not in prefixes:
        warn(f"the schema-instance namespace has the prefix {prefixes[0]!r}; GBIF looks for 'xsi:schemaLocation'")
    tokens = location.split(" ")
    if len(tokens) != 2 or any(not token or token != token.strip() or " " in token for token in tokens):
        warn(
            f"xsi:schemaLocation {location!r} is not two tokens separated by exactly one space, so the GBIF "
            f'validator cannot find the schema; write "{SCHEMA_LOCATION}"'
        )
        return fallback
    declared = declared_schema(tokens[1])
    if tokens[0] != namespace:
        warn(f"xsi:schemaLocation names namespace {tokens[0]!r} but the document is in {namespace!r}")
        return fallback
    if declared is None or declared.namespace != namespace:
        warn(f"xsi:schemaLocation declares {tokens[1]!r}, not a known EML or GBIF profile schema for {namespace}")
        return fallback
    if not declared.current:
        warn(f"the document uses the {declared.name} (EML 2.1.1); GBIF's current profile is 1.3 (EML 2.2.0)")
    return declared


def _check_schema(context: _Context) -> None:
    schema = _schema_to_validate(context)
    if schema is None:
        return
    validator = load_schema(schema.schema_path)
    if validator.validate(context.tree):
        return
    errors = list(validator.error_log)
    for error in errors[:MAX_SCHEMA_ERRORS]:
        context.findings.append(
            Finding(
                item=42,
                code="EML_GBIF_SCHEMA",
                severity=Severity.WARNING,
                message=f"not valid against the {schema.name}: {error.message}",
                file=context.member,
                line=error.line or None,
            )
        )
    if len(errors) > MAX_SCHEMA_ERRORS:
        context.report(
            42,
            "EML_GBIF_SCHEMA",
            Severity.WARNING,
            f"{len(errors) - MAX_SCHEMA_ERRORS} more schema errors against the {schema.name} not listed",
        )


# 43 -------------------------------------------------------------------------------------------


def _licence_link(context: _Context) -> etree._Element | None:
    """The first ulink with a url at intellectualRights/para/ulink, the only place GBIF looks."""
    for para in _children(_child(context.dataset, "intellectualRights"), "para"):
        for link in _children(para, "ulink"):
            if link.get("url", "").strip():
                return link
    return None


def _check_licence(context: _Context) -> None:
    def block(message: str, element) -> None:
        context.report(43, "LICENSE_MISSING_OR_UNKNOWN", Severity.BLOCKING, message, element)

    rights = _child(context.dataset, "intellectualRights")
    link = _licence_link(context)
    if link is None:
        said = f" (it says {_text(rights)[:80]!r})" if _text(rights) else ""
        block(
            f"no machine-readable licence: GBIF reads it only from intellectualRights/para/ulink/@url{said}; "
            f"link one of {_ACCEPTED}",
            rights if rights is not None else context.dataset,
        )
        return
    licence = parse_licence(link.get("url"))
    if licence is None:
        block(f"licence URL {link.get('url')!r} is not one of {_ACCEPTED}, the licences GBIF accepts", link)
        return
    _check_licence_agrees(context, licence, link)


def _check_licence_agrees(context: _Context, licence: Licence, link: etree._Element) -> None:
    """A citetitle or `licensed` element naming another licence contradicts the link."""

    def conflict(what: str, other: Licence, element) -> None:
        context.report(
            43,
            "LICENSE_CONFLICT",
            Severity.WARNING,
            f"{what} names {other.short_name} but the licence link is {licence.short_name}",
            element,
        )

    citetitle = _child(link, "citetitle")
    named = parse_licence(_text(citetitle))
    if named is not None and named != licence:
        conflict("the licence citetitle", named, citetitle)
    for licensed in _children(context.dataset, "licensed"):
        for part in ("identifier", "url", "licenseName"):
            named = parse_licence(_text(_child(licensed, part)))
            if named is not None:
                if named != licence:
                    conflict(f"licensed/{part}", named, licensed)
                break


# 44 and 45 ------------------------------------------------------------------------------------


def _has_citation_name(party: etree._Element) -> bool:
    return bool(_text(_child(_child(party, "individualName"), "surName")) or _text(_child(party, "organizationName")))


def _check_content(context: _Context) -> None:
    dataset = context.dataset
    title = _child(dataset, "title")
    if len(_text(title)) < MIN_TITLE_LENGTH:
        context.report(
            44,
            "TITLE_MISSING_OR_TOO_SHORT",
            Severity.WARNING,
            f"the title {_text(title)!r} is shorter than {MIN_TITLE_LENGTH} characters",
            title if title is not None else dataset,
        )
    abstract = _child(dataset, "abstract")
    if len(_text(abstract)) < MIN_DESCRIPTION_LENGTH:
        context.report(
            44,
            "DESCRIPTION_MISSING_OR_TOO_SHORT",
            Severity.WARNING,
            f"the abstract is shorter than {MIN_DESCRIPTION_LENGTH} characters",
            abstract if abstract is not None else dataset,
        )
    creators, contacts = _children(dataset, "creator"), _children(dataset, "contact")
    if not any(_has_citation_name(party) for party in creators + contacts):
        context.report(
            44,
            "RESOURCE_CONTACTS_MISSING_OR_INCOMPLETE",
            Severity.WARNING,
            "no creator or contact with a surname or an organisation, so GBIF cannot build a citation",
            dataset,
        )
    for creator in creators:
        if not _has_citation_name(creator):
            context.report(
                44,
                "RESOURCE_CONTACTS_MISSING_OR_INCOMPLETE",
                Severity.WARNING,
                "a creator has neither a surname nor an organisation, so GBIF cannot cite it",
                creator,
            )


def _check_required(context: _Context) -> None:
    root, dataset = context.root, context.dataset

    def warn(code: str, message: str, element) -> None:
        context.report(45, code, Severity.WARNING, message, element)

    if not root.get("packageId", "").strip():
        warn("EML_PACKAGE_ID_MISSING", "the root has no packageId (unique per document version)", root)
    if root.get("scope") != "system":
        scope = root.get("scope")
        warn("EML_SCOPE_NOT_SYSTEM", f'the root scope is {scope!r}; the GBIF profile fixes it to "system"', root)
    if dataset is None:
        warn("EML_DATASET_MISSING", "the document has no dataset element", root)
        return
    if not _text(_child(dataset, "pubDate")):
        warn("EML_PUBDATE_MISSING", "the dataset has no pubDate", dataset)
    if not _children(dataset, "creator"):
        warn("EML_CREATOR_MISSING", "the dataset has no creator", dataset)
    if not _children(dataset, "contact"):
        warn("EML_CONTACT_MISSING", "the dataset has no contact", dataset)


# 47 -------------------------------------------------------------------------------------------


def _masked(address: str) -> str:
    """Enough of an address to find it, not enough to repeat it in a report that may be shared."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def _node_texts(node) -> list[str]:
    texts = [node.text or "", node.tail or ""]
    if isinstance(node.tag, str):
        texts += list(node.attrib.values())
    return texts


def _check_privacy(context: _Context) -> None:
    for node in context.root.iter():
        is_email_element = local_name(node) == "electronicMailAddress" and _text(node)
        found = [match for text in _node_texts(node) for match in EMAIL.findall(text)]
        if found or is_email_element:
            where = local_name(node) or "a comment"
            shown = ", ".join(sorted({_masked(address) for address in found})) or "an address"
            context.report(
                47,
                "EML_EMAIL_ADDRESS",
                Severity.LOCAL,
                f"{where} carries an e-mail address ({shown}); personal data must not leave the instance",
                node,
            )
    for name in context.root.iter():
        party = name.getparent()
        if local_name(name) != "individualName" or not _text(name) or party is None:
            continue
        consented = any(uid.get("directory", "").strip() and _text(uid) for uid in _children(party, "userId"))
        if not consented:
            context.report(
                47,
                "EML_PERSONAL_NAME",
                Severity.LOCAL,
                f"{local_name(party)} names a person without consent; a person is named only with a userId "
                "(ORCID iD or the like) on the same party, else use an organisation or position name",
                name,
            )


def check_eml(data: bytes, member: str = "eml.xml") -> list[Finding]:
    """Checklist items 41-45 and 47 for one EML document, in checklist order."""
    try:
        tree = parse_document(data)
    except UnsafeXml as error:
        return [Finding(41, "EML_DOCTYPE_REFUSED", Severity.BLOCKING, error.reason, file=member, line=error.line)]
    except EmlError as error:
        return [Finding(41, "EML_NOT_WELL_FORMED", Severity.BLOCKING, error.reason, file=member, line=error.line)]
    context = _Context(tree, member)
    _check_schema(context)
    if etree.QName(context.root).namespace in (EML_NAMESPACE, EML_2_1_1_NAMESPACE):
        _check_licence(context)
        _check_content(context)
        _check_required(context)
    _check_privacy(context)
    return context.findings
