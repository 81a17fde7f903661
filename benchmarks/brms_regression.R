# Independent-engine check of lagnest's LaggedRegression: the same model in brms (Stan).
#
# Fits the per-segment data that `benchmarks/brms_regression.py --export` wrote with brms
# (rstan backend) and writes brms's draws, log-likelihood at a subset of draws, and a JSON
# of diagnostics, timings, versions and priors into the work folder, for
# `benchmarks/brms_regression.py --compare`.
#
# Usage:
#   Rscript benchmarks/brms_regression.R [workdir] [seed] [chains] [draws] [warmup] [cores]
# Defaults: /tmp/lagnest_brms 1 4 1000 1000 2.
#
# Needs r-cran-brms (Debian) and libboost-dev: Debian's r-cran-bh carries no headers, so
# rstan's `boost_lib` option points at the system's Boost headers (env BOOST_LIB,
# default /usr/include).
#
# The model (lagnest: LaggedRegression(seqs, "rupture", ["mia"], center=None,
# shrinkage="none", initial_state=False)):
#   categorical(refcat = "none"), one formula per non-reference category k,
#   mu<k> ~ 0 + Intercept + <11 columns> + (1 | dyad) + (1 | dyad:session)
# - distinct group-level terms per dpar, without a shared ID (`(1 | ID | dyad)`): brms
#   models no correlation between the categories' dyad (or session) intercepts, as lagnest;
# - `0 + Intercept`: the intercept is the linear predictor at all columns 0 and its prior
#   sits there (brms's default `Intercept` class is the intercept of centred predictors);
# - priors per dpar: normal(0, 1.5) on the intercept and the history columns (hist_*),
#   normal(0, 1) on MIA1..MIA8, normal(0, 0.5) on class sd (half-normal, sd >= 0).

suppressPackageStartupMessages({
  library(brms)
  library(rstan)
  library(jsonlite)
  library(posterior)
})

args <- commandArgs(trailingOnly = TRUE)
arg <- function(i, default) if (length(args) >= i) args[i] else default
workdir <- arg(1, "/tmp/lagnest_brms")
seed <- as.integer(arg(2, "1"))
chains <- as.integer(arg(3, "4"))
draws <- as.integer(arg(4, "1000"))
warmup <- as.integer(arg(5, "1000"))
cores <- as.integer(arg(6, "2"))
adapt_delta <- 0.9  # lagnest's target_accept for this model
n_loglik_draws <- 200L

boost_lib <- Sys.getenv("BOOST_LIB", "/usr/include")
if (!file.exists(file.path(boost_lib, "boost", "version.hpp"))) {
  stop("no Boost headers in ", boost_lib, ": apt-get install libboost-dev or set BOOST_LIB")
}
rstan_options(boost_lib = boost_lib)

d <- read.csv(file.path(workdir, "brms_regression_data.csv"), stringsAsFactors = FALSE)
categories <- c("none", "withdrawal", "confrontation", "both")
stopifnot(all(d$y %in% categories))
d$y <- factor(d$y, levels = categories)
columns <- setdiff(names(d), c("segment", "dyad", "session", "y"))
history <- grep("^hist_", columns, value = TRUE)
cat("segments", nrow(d), "columns", paste(columns, collapse = " "), "\n")

rhs <- paste(c("0", "Intercept", columns, "(1 | dyad)", "(1 | dyad:session)"),
             collapse = " + ")
dpars <- paste0("mu", categories[-1])
forms <- lapply(dpars, function(dp) as.formula(paste(dp, "~", rhs)))
formula <- do.call(bf, c(list(y ~ 1), forms))

priors <- list()
for (dp in dpars) {
  priors <- c(priors, list(
    prior_string("normal(0, 1)", class = "b", dpar = dp),
    prior_string("normal(0, 1.5)", class = "b", coef = "Intercept", dpar = dp),
    prior_string("normal(0, 0.5)", class = "sd", dpar = dp)))
  for (h in history) {
    priors <- c(priors, list(prior_string("normal(0, 1.5)", class = "b", coef = h, dpar = dp)))
  }
}
priors <- do.call(c, priors)  # c() of brmsprior objects: one brmsprior
family <- categorical(refcat = "none")

# compile once (no chains), then sample the compiled model
t0 <- Sys.time()
compiled <- brm(formula, data = d, family = family, prior = priors, chains = 0,
                backend = "rstan", seed = seed, silent = 2, refresh = 0)
t1 <- Sys.time()
fit <- update(compiled, recompile = FALSE, chains = chains, iter = warmup + draws,
              warmup = warmup, cores = cores, seed = seed, refresh = 0,
              control = list(adapt_delta = adapt_delta))
t2 <- Sys.time()

variables <- variables(fit)
checked <- grep("^(b_|sd_|r_|cor_)", variables, value = TRUE)
correlations <- grep("^cor_", variables, value = TRUE)
if (length(correlations) > 0) stop("brms models correlations: ", paste(correlations, collapse = ", "))

# draws of every b_, sd_ and r_ variable
draws_df <- as_draws_df(fit, variable = checked)
out <- as.data.frame(draws_df)
write.csv(out, file.path(workdir, "brms_draws.csv"), row.names = FALSE)

# per-segment log-likelihood at a subset of draws (for the exact likelihood check)
ids <- unique(round(seq(1, ndraws(fit), length.out = n_loglik_draws)))
ll <- log_lik(fit, draw_ids = ids)
ll_df <- data.frame(.draw = ids, ll)
names(ll_df) <- c(".draw", paste0("seg_", seq_len(ncol(ll))))
write.csv(ll_df, file.path(workdir, "brms_loglik.csv"), row.names = FALSE)

summ <- summarise_draws(draws_df, "rhat", "ess_bulk", "ess_tail")
elapsed <- get_elapsed_time(fit$fit)
sampler <- get_sampler_params(fit$fit, inc_warmup = FALSE)
max_depth <- if (is.null(fit$fit@stan_args[[1]]$control$max_treedepth)) 10 else
  fit$fit@stan_args[[1]]$control$max_treedepth
ps <- as.data.frame(prior_summary(fit))
ps <- ps[ps$prior != "", c("prior", "class", "coef", "group", "dpar", "source")]
prior_rows <- apply(ps, 1, function(r) paste(trimws(r), collapse = " | "))
writeLines(stancode(fit), file.path(workdir, "brms_model.stan"))

boost_version <- sub('.*"(.*)".*', "\\1",
                     grep("define BOOST_LIB_VERSION",
                          readLines(file.path(boost_lib, "boost", "version.hpp")),
                          value = TRUE))
info <- list(
  formula = paste(capture.output(print(formula)), collapse = "\n"),
  family = "categorical(refcat = \"none\")",
  settings = list(seed = seed, chains = chains, draws = draws, warmup = warmup,
                  cores = cores, adapt_delta = adapt_delta, backend = "rstan"),
  variables = checked,
  correlations = correlations,
  prior_summary = prior_rows,
  diagnostics = list(
    rhat_max = max(summ$rhat),
    ess_bulk_min = min(summ$ess_bulk),
    ess_tail_min = min(summ$ess_tail),
    divergences = sum(sapply(sampler, function(s) sum(s[, "divergent__"]))),
    treedepth_hits = sum(sapply(sampler, function(s) sum(s[, "treedepth__"] >= max_depth))),
    n_variables = length(checked)
  ),
  timing = list(
    compile_seconds = as.numeric(difftime(t1, t0, units = "secs")),
    sampling_wall_seconds = as.numeric(difftime(t2, t1, units = "secs")),
    sampling_seconds = sum(elapsed),
    warmup_seconds_per_chain = unname(elapsed[, "warmup"]),
    sample_seconds_per_chain = unname(elapsed[, "sample"]),
    wall_seconds = as.numeric(difftime(t2, t0, units = "secs"))
  ),
  versions = list(
    R = R.version.string,
    brms = as.character(packageVersion("brms")),
    rstan = as.character(packageVersion("rstan")),
    StanHeaders = as.character(packageVersion("StanHeaders")),
    posterior = as.character(packageVersion("posterior")),
    Boost = boost_version
  ),
  boost_lib = boost_lib,
  loglik_draws = length(ids)
)
write_json(info, file.path(workdir, "brms_info.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
cat(sprintf("compile %.1f s, sampling %.1f s (chains' sum %.1f s); R-hat max %.3f, bulk ESS min %.0f, divergences %d\n",
            info$timing$compile_seconds, info$timing$sampling_wall_seconds,
            info$timing$sampling_seconds, info$diagnostics$rhat_max,
            info$diagnostics$ess_bulk_min, info$diagnostics$divergences))
print(fixef(fit), digits = 3)
print(VarCorr(fit))
