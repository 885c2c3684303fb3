# The two commands of the README: `make run` opens the app, `make test` runs the checks.
# Both create or reuse .venv and install what is missing first.
PYTHON := .venv/bin/python

.PHONY: setup run test lint bench default-model

# The default model's recipe: a synthetic corpus, plus real background noise for augmentation
# and _silence_ (../shared/data/background_noise: the six Speech Commands noise files).
CORPUS ?= corpora/default
NOISE ?= ../shared/data/background_noise
EPOCHS ?= 30
# Wider pitch and vocal-tract warping than training's defaults: the held-out voices need them
# (README, "The default model").
SPEAKER_AUGMENT ?= --augment pitch_prob=0.5 --augment pitch_semitones=-4,4 \
	--augment vtlp_prob=0.7 --augment vtlp_alpha_range=0.8,1.2

setup:
	@scripts/bootstrap.sh

run: setup
	$(PYTHON) main.py $(ARGS)

test: lint
	QT_QPA_PLATFORM=offscreen $(PYTHON) -m pytest -q

lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

bench: setup
	$(PYTHON) main.py bench

default-model: setup
	$(PYTHON) main.py synth --out $(CORPUS) --per-word 1500 --unknown 3000 --silence 1500 --noise $(NOISE)
	$(PYTHON) main.py train --data $(CORPUS) --labels default --noise $(NOISE) --epochs $(EPOCHS) \
		--seed 0 --ema 0.999 $(SPEAKER_AUGMENT) --out assets/models/default
	$(PYTHON) main.py eval --data $(CORPUS) --split test
