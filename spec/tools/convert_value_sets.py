#!/usr/bin/env python3
"""Converts the CI-SIS value sets of ../shared/ig/related/terminologies (FHIR ValueSet JSON,
package ans.fr.terminologies 1.12.0) into spec/telerad/value_sets.json: the codes, each with the
HL7 v2 coding-system name the guide uses in X.3 for its FHIR system URI.

Run from the repository root: python3 spec/tools/convert_value_sets.py [TERMINOLOGIES_DIR]
Deterministic: sorted keys where the format is a map, 2-space indent, trailing newline.
"""
import json
import sys
from pathlib import Path

# FHIR system URI -> HL7 v2 coding-system name (X.3) as the guide writes it: DCM and SCT in
# st_flux1.md (modality "terminologie-cisis-fr ou DCM", regions "SCT"), LN for LOINC (HL7 table
# 0396).
SYSTEMS = {
    "https://smt.esante.gouv.fr/fhir/CodeSystem/terminologie-cisis": "terminologie-cisis-fr",
    "http://dicom.nema.org/resources/ontology/DCM": "DCM",
    "http://snomed.info/sct": "SCT",
    "http://loinc.org": "LN",
}

# The name the guide gives each value set (st_flux1.md, st_flux4.md) for its file.
FILES = {
    "ValueSet-jdv-modalite-demande-acte-imagerie-cisis.json": "JDV_modalitedemandeActeImagerie-CISIS",
    "ValueSet-jdv-region-anatomique-cisis.json": "JDV_RegionAnatomique-CISIS",
    "ValueSet-jdv-modificateur-topographique-cisis.json": "JDV_ModificateurTopographique-CISIS",
}

NOT_AVAILABLE = {
    "JDV_CodeDocumentImagerie-CISIS": {
        "oid": "1.2.250.1.213.1.1.5.687",
        "url": "https://smt.esante.gouv.fr/fhir/ValueSet/jdv-code-document-imagerie-cisis",
        "why": "several thousand LOINC codes, not part of the guide's sources kept offline; "
               "validation reports an info finding that it was not checked",
    }
}


def main():
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/ig/related/terminologies")
    value_sets = {}
    for file, name in sorted(FILES.items()):
        vs = json.loads((src / file).read_text(encoding="utf-8"))
        oid = next((i["value"].removeprefix("urn:oid:") for i in vs.get("identifier", [])
                    if i.get("value", "").startswith("urn:oid:")), None)
        codes = []
        for inc in vs["compose"]["include"]:
            system = SYSTEMS[inc["system"]]
            for c in inc.get("concept", []):
                codes.append({"system": system, "code": c["code"], "display": c.get("display")})
        value_sets[name] = {
            "oid": oid,
            "url": vs["url"],
            "version": vs.get("version"),
            "source": f"ig/related/terminologies/{file}",
            "codes": codes,
        }
    out = {
        "systems": SYSTEMS,
        "value_sets": value_sets,
        "not_available": NOT_AVAILABLE,
    }
    path = Path("spec/telerad/value_sets.json")
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
