"""A script-mode entry point that fails the way user code does."""


def check(answer):
    if answer != 42:
        raise ValueError(f"the answer is {answer}, not 42")


if __name__ == "__main__":
    print("starting")
    check(41)
