# Extract the nonverbal corpus and the summaries mHMMbayes prints (summary.mHMM,
# print.mHMM) from the fitted objects its tutorial ships; base R only.
# Usage: Rscript mhmmbayes_extract.R <folder with the .rda files> <output folder>
args <- commandArgs(trailingOnly = TRUE)
src <- args[1]; out <- args[2]
int_to_prob <- function(int) { e <- exp(cbind(0, int)); e / rowSums(e) }
load(file.path(src, "nonverbal.rda"))
write.csv(nonverbal, file.path(out, "nonverbal.csv"), row.names = FALSE)
summ <- function(file, key) {
  env <- new.env(); load(file, envir = env); obj <- get(ls(env)[1], envir = env)
  inp <- obj$input; m <- inp$m; J <- inp$J; b <- inp$burn_in; keep <- (b + 1):J
  g_int <- matrix(apply(obj$gamma_int_bar[keep, , drop = FALSE], 2, median), byrow = TRUE, ncol = m - 1, nrow = m)
  gamma <- int_to_prob(g_int)
  # per-iteration probabilities of the group level (the slim objects of older releases keep
  # only the intercepts): the SD of each probability over the kept iterations
  prob_sd <- function(ints, q) {
    probs <- t(apply(ints[keep, , drop = FALSE], 1, function(r)
      as.vector(t(int_to_prob(matrix(r, byrow = TRUE, ncol = q - 1, nrow = m))))))
    matrix(apply(probs, 2, sd), byrow = TRUE, nrow = m)
  }
  gsd <- if (!is.null(obj$gamma_prob_bar)) {
    matrix(apply(obj$gamma_prob_bar[keep, , drop = FALSE], 2, sd), byrow = TRUE, nrow = m)
  } else prob_sd(obj$gamma_int_bar, m)
  em <- list(); emsd <- list()
  for (i in seq_len(inp$n_dep)) {
    q <- inp$q_emiss[i]
    e_int <- matrix(apply(obj$emiss_int_bar[[i]][keep, , drop = FALSE], 2, median), byrow = TRUE, ncol = q - 1, nrow = m)
    em[[inp$dep_labels[i]]] <- int_to_prob(e_int)
    emsd[[inp$dep_labels[i]]] <- if (!is.null(obj$emiss_prob_bar)) {
      matrix(apply(obj$emiss_prob_bar[[i]][keep, , drop = FALSE], 2, sd), byrow = TRUE, nrow = m)
    } else prob_sd(obj$emiss_int_bar[[i]], q)
  }
  n_par <- sum((inp$q_emiss - 1) * m) + (m - 1) * m
  if (is.null(obj$PD_subj)) {  # no subject log-likelihoods kept: no AIC from the object
    return(list(m = m, J = J, burn_in = b, gamma = gamma, gamma_sd = gsd, emission = em,
                emission_sd = emsd, n_par = n_par, mean_AIC = NA))
  }
  LL <- sapply(seq_len(inp$n_subj), function(s) median(obj$PD_subj[[s]]$log_likl[keep, 1]))
  list(m = m, J = J, burn_in = b, gamma = gamma, gamma_sd = gsd, emission = em,
       emission_sd = emsd, subject_LL = LL, n_par = n_par,
       mean_AIC = mean(2 * n_par - 2 * LL))
}
res <- list(k2 = summ(file.path(src, "nonv_2st_1000it.rda")),
            k3 = summ(file.path(src, "nonv_3st_1000it.rda")))
if (file.exists(file.path(src, "nonv_4st_1000it.rda"))) {
  res$k4 <- summ(file.path(src, "nonv_4st_1000it.rda"))
}
con <- file(file.path(out, "reference.json"), "w")
to_json <- function(x) {
  if (is.list(x)) {
    nm <- names(x)
    inner <- sapply(seq_along(x), function(i) paste0('"', nm[i], '":', to_json(x[[i]])))
    return(paste0("{", paste(inner, collapse = ","), "}"))
  }
  if (is.matrix(x)) return(paste0("[", paste(apply(x, 1, function(r) paste0("[", paste(format(r, digits = 15), collapse = ","), "]")), collapse = ","), "]"))
  if (length(x) == 1 && is.na(x)) return("null")
  if (length(x) == 1) return(format(x, digits = 15))
  paste0("[", paste(format(x, digits = 15), collapse = ","), "]")
}
writeLines(to_json(res), con); close(con)
