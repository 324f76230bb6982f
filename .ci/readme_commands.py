"""Print the set-up commands of a README, one per line.

A set-up command is a line of a ```bash block that starts with "pip install".
"""

import sys


def readme_commands(text: str) -> list[str]:
    commands = []
    in_bash = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_bash = line.strip() in ("```bash", "```sh", "```console")
            continue
        if in_bash and line.startswith("pip install"):
            commands.append(line.strip())
    return commands


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as readme:
        print("\n".join(readme_commands(readme.read())))
