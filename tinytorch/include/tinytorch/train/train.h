// tinytorch/train/train.h — all of tinytorch::train in one include (module 07).
//
//   metrics.h         accuracy, ConfusionMatrix, RunningAverage, History
//   loop.h            train_step, evaluate — the plain loop's two building blocks
//   progress.h        ProgressBar (live bar on a terminal, one line per epoch in logs)
//   early_stopping.h  EarlyStopping (patience, min_delta, monitored metric)
//   checkpoint.h      capture / restore / save / load of a whole training run
//   logging.h         metrics.csv, metrics.json (atomic writes)
//   plot.h            training_curve.svg
//   trainer.h         Trainer: fit(epochs), resume(path)
#pragma once

#include "tinytorch/train/checkpoint.h"
#include "tinytorch/train/early_stopping.h"
#include "tinytorch/train/logging.h"
#include "tinytorch/train/loop.h"
#include "tinytorch/train/metrics.h"
#include "tinytorch/train/plot.h"
#include "tinytorch/train/progress.h"
#include "tinytorch/train/trainer.h"
