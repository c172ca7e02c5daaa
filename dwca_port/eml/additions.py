"""What a publisher adds to the metadata an export computes: a YAML file, read and checked here.

    additions = read_additions("metadata.yaml")   # MetadataError: "<file>, line 7, contacts[1].role: ..."

Every key is optional; unknown keys are refused (a typo must not vanish silently). docs/publishing.md
describes the file. Parties carry no e-mail address (the gbif profile publishes none) and name a
person only with an ORCID iD, which is how consent is recorded (docs/eml.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .model import KeywordSet, Party, Project, UserId

# GBIF's agent roles (http://rs.gbif.org/vocabulary/gbif/agent_role.xml), as the IPT offers them.
ROLES = (
    "author",
    "contentProvider",
    "custodianSteward",
    "curator",
    "distributor",
    "editor",
    "metadataProvider",
    "originator",
    "owner",
    "pointOfContact",
    "principalInvestigator",
    "processor",
    "programmer",
    "publisher",
    "reviewer",
    "user",
)
ORCID = "https://orcid.org/"
ROR = "https://ror.org/"
_ORCID_ID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]\Z")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*\Z", re.IGNORECASE)
MAX_BYTES = 1_000_000

_PARTY_TEXT = {
    "organisation": "organisation",
    "position": "position",
    "given_name": "given_name",
    "surname": "surname",
    "address": "delivery_point",
    "city": "city",
    "region": "administrative_area",
    "postal_code": "postal_code",
}


class MetadataError(ValueError):
    """The file cannot be used; the message names the file, the line, the field and the rule."""


@dataclass
class MetadataAdditions:
    title: str = ""
    abstract: list[str] = field(default_factory=list)  # replaces the project's description
    purpose: str = ""
    homepage: str = ""
    keyword_sets: list[KeywordSet] = field(default_factory=list)
    citation: str = ""
    citation_identifier: str = ""
    creators: list[Party] = field(default_factory=list)
    contacts: list[Party] = field(default_factory=list)
    metadata_providers: list[Party] = field(default_factory=list)
    associated_parties: list[Party] = field(default_factory=list)
    project: Project | None = None
    method_steps: list[str] = field(default_factory=list)
    quality_control: list[str] = field(default_factory=list)


class _Reader:
    """YAML nodes -> values, with the line of every field for the error messages."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: yaml.Node | None, where: str, rule: str) -> MetadataError:
        line = f", line {node.start_mark.line + 1}" if node is not None else ""
        return MetadataError(f"{self.path}{line}, {where}: {rule}")

    def mapping(self, node: yaml.Node, where: str, allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "expected keys and values")
        found: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else ""
            inner = f"{where}.{name}" if where else name
            if name not in allowed:
                raise self.fail(key, inner or where, f"unknown field; expected one of {', '.join(allowed)}")
            if name in found:
                raise self.fail(key, inner, "given twice")
            found[name] = value
        return found

    def text(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, where, "expected a text")
        value = str(node.value).strip()
        if not value:
            raise self.fail(node, where, "is empty")
        return value

    def url(self, node: yaml.Node, where: str) -> str:
        value = self.text(node, where)
        if not _URL.match(value):
            raise self.fail(node, where, f"{value[:60]!r} is not an http(s) URL")
        return value

    def texts(self, node: yaml.Node, where: str) -> list[str]:
        if isinstance(node, yaml.ScalarNode):
            return [self.text(node, where)]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, where, "expected a text or a list of texts")
        return [self.text(item, f"{where}[{number}]") for number, item in enumerate(node.value, 1)]

    def items(self, node: yaml.Node, where: str) -> list[tuple[yaml.Node, str]]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, where, "expected a list")
        return [(item, f"{where}[{number}]") for number, item in enumerate(node.value, 1)]

    def party(self, node: yaml.Node, where: str, needs_role: bool) -> Party:
        fields = self.mapping(node, where, (*_PARTY_TEXT, "country", "url", "orcid", "ror", "role", "email"))
        if "email" in fields:
            raise self.fail(fields["email"], f"{where}.email", "e-mail addresses are not published (privacy)")
        party = Party(
            **{_PARTY_TEXT[key]: self.text(fields[key], f"{where}.{key}") for key in _PARTY_TEXT if key in fields}
        )
        if "country" in fields:
            party.country = self.text(fields["country"], f"{where}.country").upper()
            if not re.fullmatch(r"[A-Z]{2}", party.country):
                raise self.fail(fields["country"], f"{where}.country", "expected an ISO 3166-1 alpha-2 code, e.g. US")
        if "url" in fields:
            party.online_url = self.url(fields["url"], f"{where}.url")
        if "orcid" in fields:
            orcid = self.text(fields["orcid"], f"{where}.orcid").removeprefix(ORCID)
            if not _ORCID_ID.match(orcid):
                raise self.fail(fields["orcid"], f"{where}.orcid", "expected an ORCID iD, e.g. 0000-0002-1825-0097")
            party.user_ids.append(UserId(ORCID, orcid))
        if "ror" in fields:
            party.user_ids.append(UserId(ROR, self.text(fields["ror"], f"{where}.ror").removeprefix(ROR)))
        if "role" in fields:
            party.role = self.text(fields["role"], f"{where}.role")
            if party.role not in ROLES:
                raise self.fail(fields["role"], f"{where}.role", f"{party.role!r} is not one of {', '.join(ROLES)}")
        elif needs_role:
            raise self.fail(node, where, "needs a role")
        if not (party.organisation or party.position or party.surname):
            raise self.fail(node, where, "needs an organisation, a position or a surname")
        if party.has_personal_name and not any(uid.directory == ORCID for uid in party.user_ids):
            raise self.fail(node, where, "names a person without an ORCID iD, which is how consent is recorded")
        return party

    def parties(self, node: yaml.Node, where: str, needs_role: bool = False) -> list[Party]:
        return [self.party(item, place, needs_role) for item, place in self.items(node, where)]

    def keyword_sets(self, node: yaml.Node, where: str) -> list[KeywordSet]:
        sets = []
        for item, place in self.items(node, where):
            fields = self.mapping(item, place, ("keywords", "thesaurus"))
            if "keywords" not in fields:
                raise self.fail(item, place, "needs keywords")
            thesaurus = self.text(fields["thesaurus"], f"{place}.thesaurus") if "thesaurus" in fields else "N/A"
            sets.append(KeywordSet(self.texts(fields["keywords"], f"{place}.keywords"), thesaurus))
        return sets

    def project(self, node: yaml.Node, where: str) -> Project:
        keys = ("title", "identifier", "funding", "study_area", "design", "personnel")
        fields = self.mapping(node, where, keys)
        for required in ("title", "personnel"):
            if required not in fields:
                raise self.fail(node, where, f"needs {required}")
        text = {key: self.text(fields[key], f"{where}.{key}") for key in keys[:5] if key in fields}
        return Project(
            title=text["title"],
            personnel=self.parties(fields["personnel"], f"{where}.personnel", needs_role=True),
            identifier=text.get("identifier", ""),
            funding=text.get("funding", ""),
            study_area_description=text.get("study_area", ""),
            design_description=text.get("design", ""),
        )


TOP_LEVEL = (
    "title",
    "abstract",
    "purpose",
    "homepage",
    "keyword_sets",
    "citation",
    "creators",
    "contacts",
    "metadata_providers",
    "associated_parties",
    "project",
    "methods",
)


def read_additions(path: str | Path) -> MetadataAdditions:
    """The additions in a YAML file; MetadataError naming the file, line, field and rule."""
    path = Path(path)
    reader = _Reader(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise MetadataError(f"{path}: cannot read it: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise MetadataError(f"{path}: larger than {MAX_BYTES:,} bytes; a metadata file is a few kilobytes")
    try:
        root = yaml.compose(data.decode("utf-8"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise MetadataError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise MetadataError(f"{path}{line}: not valid YAML: {getattr(error, 'problem', None) or error}") from None
    additions = MetadataAdditions()
    if root is None:
        return additions
    fields = reader.mapping(root, "", TOP_LEVEL)
    for key in ("title", "purpose"):
        if key in fields:
            setattr(additions, key, reader.text(fields[key], key))
    if "abstract" in fields:
        additions.abstract = reader.texts(fields["abstract"], "abstract")
    if "homepage" in fields:
        additions.homepage = reader.url(fields["homepage"], "homepage")
    if "keyword_sets" in fields:
        additions.keyword_sets = reader.keyword_sets(fields["keyword_sets"], "keyword_sets")
    if "citation" in fields:
        citation = reader.mapping(fields["citation"], "citation", ("text", "identifier"))
        if "text" not in citation:
            raise reader.fail(fields["citation"], "citation", "needs text")
        additions.citation = reader.text(citation["text"], "citation.text")
        if "identifier" in citation:
            additions.citation_identifier = reader.text(citation["identifier"], "citation.identifier")
    for key in ("creators", "contacts", "metadata_providers"):
        if key in fields:
            setattr(additions, key, reader.parties(fields[key], key))
    if "associated_parties" in fields:
        additions.associated_parties = reader.parties(fields["associated_parties"], "associated_parties", True)
    if "project" in fields:
        additions.project = reader.project(fields["project"], "project")
    if "methods" in fields:
        methods = reader.mapping(fields["methods"], "methods", ("steps", "quality_control"))
        if "steps" in methods:
            additions.method_steps = reader.texts(methods["steps"], "methods.steps")
        if "quality_control" in methods:
            additions.quality_control = reader.texts(methods["quality_control"], "methods.quality_control")
    return additions
