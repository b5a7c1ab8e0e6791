"""The documentation hangs together: the man pages name every configuration
key the parser reads and every stats-socket command, and every link
between README.md and docs/*.md leads to a file and a heading that exist
(GitHub's heading anchors)."""
import glob
import os
import re

from conftest import REPO


def config_keys():
    keys = set()
    for f in glob.glob(os.path.join(REPO, "src", "config", "*.c")):
        keys |= set(re.findall(r'strcmp\(key, "([a-z_]+)"\)', open(f).read()))
    return keys


def test_man_page_names_every_config_key():
    """moat.yaml(5) has an entry for every key the parser reads (a section
    key such as `tls` as the prefix of its keys: *tls.cert*)."""
    text = open(os.path.join(REPO, "man", "moat.yaml.5.scd")).read()
    keys = config_keys()
    assert len(keys) > 50
    undocumented = sorted(k for k in keys if not re.search(r"[*.]" + k + r"[*.]", text))
    assert not undocumented, undocumented


def test_man_page_names_every_stats_command():
    """moat-ctl(8) has an entry for every command of the stats socket's help."""
    stats = open(os.path.join(REPO, "src", "ops", "stats.c")).read()
    commands = set(re.findall(r'^\s*"([a-z]+(?: [a-z]+)*)(?= [A-Z\[]|  )', stats, re.M))
    assert {"help", "show info", "reload", "kill client", "set weight"} <= commands
    text = open(os.path.join(REPO, "man", "moat-ctl.8.scd")).read()
    missing = sorted(c for c in commands if "*" + c + "*" not in text)
    assert not missing, missing


def anchors(path):
    """GitHub's anchors of a markdown file's headings (outside code)."""
    out, fence = set(), False
    for line in open(path):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"#{1,6} (.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            n, base = 1, slug
            while slug in out:
                slug, n = f"{base}-{n}", n + 1
            out.add(slug)
    return out


def links(path):
    text = re.sub(r"```.*?```", "", open(path).read(), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_readme_and_docs_links_resolve():
    pages = [os.path.join(REPO, "README.md")] + glob.glob(os.path.join(REPO, "docs", "*.md"))
    bad = []
    for page in pages:
        for link in links(page):
            if re.match(r"[a-z]+:", link):
                continue  # https:, mailto:
            target, _, anchor = link.partition("#")
            path = os.path.normpath(os.path.join(os.path.dirname(page), target)) \
                if target else page
            if not os.path.exists(path):
                bad.append(f"{os.path.relpath(page, REPO)}: {link}: no such file")
            elif anchor and path.endswith(".md") and anchor not in anchors(path):
                bad.append(f"{os.path.relpath(page, REPO)}: {link}: no such heading")
    assert not bad, "\n".join(bad)


def test_readme_reaches_every_doc():
    """Every docs/*.md is linked from the README, the front door."""
    readme = links(os.path.join(REPO, "README.md"))
    linked = {os.path.normpath(l.partition("#")[0]) for l in readme}
    docs = sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, "docs", "*.md")))
    assert [d for d in docs if d not in linked] == []


def test_man_page_names_every_refusal_cause():
    """moat-ctl(8)'s REFUSALS has every cause of src/base/reject.c's table
    (the fallback name "unknown" is no cause)."""
    table = open(os.path.join(REPO, "src", "base", "reject.c")).read()
    causes = set(re.findall(r'\] *= *\{"([a-z_0-9]+)"', table))
    assert {"no_cert", "client_id_mismatch", "token_invalid"} <= causes
    text = open(os.path.join(REPO, "man", "moat-ctl.8.scd")).read()
    refusals = text[text.index("# REFUSALS"):]
    missing = sorted(c for c in causes if "*" + c + "*" not in refusals)
    assert not missing, missing
