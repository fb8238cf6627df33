"""Drug names as a coder reads them: salts and dosage forms set aside, then a dictionary. Pure.

The crosswalk names every product twice: the ``Drug Name`` (``Enoxaparin Sodium``,
``Lovenox``, ``Adcetris``) and the code's short description (``Inj enoxaparin sodium``).
Both are indexed under two keys: the **exact** key (forms, strengths and packaging words
dropped: ``methylprednisolone acetate``) and the **base** key (salts dropped too:
``methylprednisolone``). A charted text is looked up n-gram by n-gram, longest first, exact
keys before base keys, so ``methylprednisolone acetate 40 mg`` finds J1010 alone while
``methylprednisolone`` finds every code of the molecule (and is shown as ambiguous).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[a-z0-9]+")


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that say how it is packed or given, not what it is.
FORM_WORDS = _word_set(
    """inj injection injections injectable solution soln susp suspension vial vials syringe
    syringes prefilled pre filled pf preservative free for im iv sc sq subq subcut intramuscular
    intravenous subcutaneous use single multi dose doses ml mg mcg gm g units unit iu per
    powder lyophilized kit pen autoinjector auto injector in and of the w with emulsion
    concentrate conc infusion premix premixed bag flexible container carpuject ampul ampule
    ampoule cartridge tubex sdv mdv sterile water diluent lock only non generic brand ns plus
    usp nf bp oral tab tablet capsule"""
)
# Salts and esters: the molecule is the same drug to a coder until the code says otherwise.
SALT_WORDS = _word_set(
    """sodium potassium calcium magnesium hydrochloride hcl dihydrochloride sulfate sulphate
    phosphate acetate succinate tromethamine mesylate maleate tartrate bitartrate citrate
    bromide hydrobromide lactate gluconate besylate fumarate hyclate trihydrate monohydrate
    anhydrous disodium dipropionate valerate pamoate tosylate edisylate meglumine dimeglumine
    decanoate cypionate enanthate palmitate undecanoate propionate chloride hemifumarate"""
)
# Tokens too general to name a drug on their own.
_TOO_GENERAL = _word_set(
    """vitamin human factor immune globulin normal saline dextrose alfa beta recombinant
    complex antihemophilic toxoid vaccine hepatitis rabies tetanus botulinum infusion"""
)
_MAX_WORDS = 4
_STRENGTH = re.compile(r"^\d+(mg|mcg|ml|g|gm|u|units?|iu|meq|mu)$")  # "40mg" in a description


def words(text: str) -> list[str]:
    """Lower-case word tokens without form and packaging words or bare numbers."""
    return [
        t
        for t in _TOKEN.findall(text.lower())
        if t not in FORM_WORDS and not t.isdigit() and not _STRENGTH.match(t)
    ]


def exact_key(text: str) -> str:
    """The name with forms set aside: ``Inj enoxaparin sodium`` -> ``enoxaparin sodium``."""
    return " ".join(words(text))


def base_key(text: str) -> str:
    """The molecule: salts set aside too: ``enoxaparin sodium`` -> ``enoxaparin``."""
    return " ".join(w for w in words(text) if w not in SALT_WORDS)


def _usable(key: str) -> bool:
    tokens = key.split()
    if not tokens or len(tokens) > _MAX_WORDS:
        return False
    if len(tokens) == 1:
        return len(tokens[0]) >= 4 and tokens[0] not in _TOO_GENERAL and not tokens[0][0].isdigit()
    return any(len(t) >= 4 and t not in _TOO_GENERAL for t in tokens)


@dataclass(frozen=True)
class NameIndex:
    """Normalised name -> the codes of the products so named (exact and base keys)."""

    exact: dict[str, tuple[str, ...]] = field(default_factory=dict)
    base: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, named_codes: Iterable[tuple[str, str]]) -> NameIndex:
        """From (name, code) pairs; a key keeps every code it names, in code order."""
        exact: dict[str, set[str]] = {}
        base: dict[str, set[str]] = {}
        for name, code in named_codes:
            for key, into in ((exact_key(name), exact), (base_key(name), base)):
                if _usable(key):
                    into.setdefault(key, set()).add(code)
        return cls(
            exact={k: tuple(sorted(v)) for k, v in exact.items()},
            base={k: tuple(sorted(v)) for k, v in base.items()},
        )

    def find(self, text: str) -> tuple[str, ...]:
        """The codes the text names: the longest n-gram that is a name (exact, then base)."""
        tokens = words(text)
        plain = [t for t in tokens if t not in SALT_WORDS]
        for length in range(min(_MAX_WORDS, len(tokens)), 0, -1):
            for start in range(len(tokens) - length + 1):
                found = self.exact.get(" ".join(tokens[start : start + length]))
                if found:
                    return found
        for length in range(min(_MAX_WORDS, len(plain)), 0, -1):
            for start in range(len(plain) - length + 1):
                found = self.base.get(" ".join(plain[start : start + length]))
                if found:
                    return found
        return ()
