import pytest

from dwca_port.eml import CC0_1_0, CC_BY_4_0, CC_BY_NC_4_0, GBIF_LICENCES, parse_licence


@pytest.mark.parametrize(
    "spelling, expected",
    [
        # SPDX ids
        ("CC0-1.0", CC0_1_0),
        ("CC-BY-4.0", CC_BY_4_0),
        ("cc-by-nc-4.0", CC_BY_NC_4_0),
        # canonical URLs and their variants
        ("http://creativecommons.org/publicdomain/zero/1.0/legalcode", CC0_1_0),
        ("https://creativecommons.org/publicdomain/zero/1.0/", CC0_1_0),
        ("https://creativecommons.org/publicdomain/zero/1.0", CC0_1_0),
        ("http://creativecommons.org/licenses/by/4.0/legalcode", CC_BY_4_0),
        ("https://creativecommons.org/licenses/by/4.0/legalcode.en", CC_BY_4_0),
        ("https://creativecommons.org/licenses/by/4.0/deed.fr", CC_BY_4_0),
        ("HTTPS://www.CreativeCommons.org/licenses/by/4.0/", CC_BY_4_0),
        ("  http://creativecommons.org/licenses/by-nc/4.0/legalcode  ", CC_BY_NC_4_0),
        ("https://creativecommons.org/licenses/by-nc/4.0", CC_BY_NC_4_0),
        ("https://spdx.org/licenses/CC-BY-NC-4.0.html", CC_BY_NC_4_0),
        ("https://spdx.org/licenses/CC0-1.0.json", CC0_1_0),
        # titles and short names, including the IPT's citetitles
        ("CC BY 4.0", CC_BY_4_0),
        ("cc by 4.0", CC_BY_4_0),
        ("CC-BY 4.0", CC_BY_4_0),
        ("CC BY-NC 4.0", CC_BY_NC_4_0),
        ("CC0", CC0_1_0),
        ("CC0 1.0", CC0_1_0),
        ("Public Domain (CC0 1.0)", CC0_1_0),
        ("Creative Commons Zero v1.0 Universal", CC0_1_0),
        ("Creative Commons Attribution 4.0 International", CC_BY_4_0),
        ("Creative Commons Attribution 4.0 International License", CC_BY_4_0),
        ("Creative Commons Attribution (CC-BY) 4.0 License", CC_BY_4_0),
        ("Creative Commons Attribution-NonCommercial 4.0 International", CC_BY_NC_4_0),
        ("Creative Commons Attribution Non Commercial 4.0 International", CC_BY_NC_4_0),
        ("Creative Commons Attribution Non Commercial (CC-BY-NC) 4.0 License", CC_BY_NC_4_0),
        ("the Creative Commons Attribution 4.0 licence.", CC_BY_4_0),
    ],
)
def test_recognises_the_three_gbif_licences_however_written(spelling, expected):
    assert parse_licence(spelling) is expected


@pytest.mark.parametrize(
    "value",
    [
        "All rights reserved",
        "All rights reserved. No license specified.",
        "",
        "   ",
        None,
        "CC BY",  # which version? GBIF accepts 4.0 only
        "CC BY 3.0",
        "CC BY-SA 4.0",
        "CC-BY-NC-ND-4.0",
        "https://creativecommons.org/licenses/by-sa/4.0/legalcode",
        "https://creativecommons.org/licenses/by/3.0/",
        "https://example.org/licenses/by/4.0",
        "ftp://creativecommons.org/licenses/by/4.0",
        "https://spdx.org/licenses/MIT.html",
        "ODC-By-1.0",
    ],
)
def test_anything_else_is_not_a_gbif_licence(value):
    assert parse_licence(value) is None


def test_each_licence_carries_the_canonical_url_title_and_spdx_id():
    assert [(lic.spdx_id, lic.url) for lic in GBIF_LICENCES] == [
        ("CC0-1.0", "http://creativecommons.org/publicdomain/zero/1.0/legalcode"),
        ("CC-BY-4.0", "http://creativecommons.org/licenses/by/4.0/legalcode"),
        ("CC-BY-NC-4.0", "http://creativecommons.org/licenses/by-nc/4.0/legalcode"),
    ]
    for licence in GBIF_LICENCES:
        assert parse_licence(licence.url) is licence
        assert parse_licence(licence.title) is licence
        assert parse_licence(licence.spdx_id) is licence
        assert parse_licence(licence.short_name) is licence
        assert parse_licence(licence.spdx_url) is licence
