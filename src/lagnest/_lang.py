"""The words lagnest shows a reader, in English and Spanish: one catalogue, one lookup.

Every translated text of the report, the figures and the printed summaries is an entry of
:data:`WORDS` (a key, its English text, its Spanish text), looked up with
:func:`translate`; column names of printed tables are in :data:`COLUMNS`
(:func:`column_name`). The English entries are the texts lagnest printed before it spoke
Spanish, so ``lang="en"`` output is unchanged. Code labels come from the codebook
(:func:`code_label`): in Spanish a named category (``withdrawal``) or a stream
(``rupture``) shows its codebook label ("Retirada", "Tipo de ruptura"), while an
identifier of a manual (``MIA4``, ``W1``) stays as the manual writes it.

This module is in the shared layer: it imports nothing of lagnest, and takes a codebook
as any object with ``display_label(code, lang)``
(:meth:`lagnest.data.codebook.Codebook.display_label`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["LANGUAGES", "check_lang", "code_label", "code_labels", "column_name", "failure_text",
           "group_word", "label_map", "reword", "translate", "words"]

#: The languages lagnest speaks (``lang=`` of summaries, figures and the report).
LANGUAGES: tuple[str, ...] = ("en", "es")

#: Key -> (English, Spanish). ``{name}`` fields are filled by :func:`translate`.
WORDS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ Sequences.summary
    "seqs.head": ("Sequences: {dyads} dyads, {sessions} sessions, {segments} segments",
                  "Secuencias: {dyads} díadas, {sessions} sesiones, {segments} segmentos"),
    "seqs.lengths": ("  segments per session: min {min}, median {median}, max {max}; "
                     "breaks: {breaks}",
                     "  segmentos por sesión: mín. {min}, mediana {median}, máx. {max}; "
                     "cortes: {breaks}"),
    "seqs.derived": (" (derived)", " (derivado)"),
    "seqs.categorical": ("categorical", "categórico"),
    "seqs.indicator": ("indicator", "indicador"),
    "seqs.ratings": ("  ratings: ", "  puntuaciones: "),
    "seqs.questionnaire": ("  questionnaire {name}: {n} items scored into ",
                           "  cuestionario {name}: {n} ítems puntuados en "),
    "seqs.covariates": ("  session covariates: ", "  covariables de sesión: "),
    # ------------------------------------------------------------------ lag tables as text
    "text.title": ("Lag table", "Tabla de retardo"),
    "text.title_of": ("Lag table: given {given} -> target {target}, {kind}",
                      "Tabla de retardo: antecedente {given} -> consecuente {target}, {kind}"),
    "text.window": ("window {n}", "ventana {n}"),
    "text.lag": ("lag {n}", "retardo {n}"),
    "text.corner": ("given \\ target", "antecedente \\ consecuente"),
    "text.total": ("total", "total"),
    "text.df": ("df", "gl"),
    "text.cells": ("cells: count (adjusted residual); * p < {alpha} (two-sided)",
                   "celdas: frecuencia (residuo ajustado); * p < {alpha} (bilateral)"),
    # ------------------------------------------------------------------ lagnest demo
    "demo.title": ("lagnest demo: the example corpus", "Demo de lagnest: el corpus de ejemplo"),
    "demo.subtitle": (
        "Simulated thesis-like corpus (lagnest.datasets.load_example()): 6 dyads, 53 "
        "sessions; the analyses of the founding study and its rupture episodes.",
        "Corpus simulado como el de la tesis (lagnest.datasets.load_example()): 6 díadas, "
        "53 sesiones; los análisis del estudio fundador y sus episodios de ruptura."),
    # ------------------------------------------------------------------ report: page
    "report.title": ("lagnest report", "Informe de lagnest"),
    "section.overview": ("Key figures", "Figuras principales"),
    "section.data": ("Data", "Datos"),
    "section.lag-tables": ("Lag tables", "Tablas de retardo"),
    "section.analyses": ("Analyses", "Análisis"),
    "section.checks": ("Posterior predictive checks", "Chequeos predictivos posteriores"),
    "section.diagnostics": ("Sampler diagnostics", "Diagnósticos del muestreador"),
    "section.specs": ("Specifications", "Especificaciones"),
    "section.versions": ("Versions", "Versiones"),
    "empty.overview": ("No figures.", "Sin figuras."),
    "empty.data": ("No data summary given.", "No se entregó un resumen de los datos."),
    "empty.lag-tables": ("No lag tables requested.", "No se pidieron tablas de retardo."),
    "empty.analyses": ("No analyses run.", "No se corrió ningún análisis."),
    "empty.checks": ("No predictive checks given.",
                     "No se entregaron chequeos predictivos."),
    "empty.diagnostics": ("No fits, so no sampler diagnostics.",
                          "Sin ajustes, y por lo tanto sin diagnósticos del muestreador."),
    "empty.specs": ("No specs given.", "No se entregaron especificaciones."),
    "generated": ("Generated {when} by lagnest {version}",
                  "Generado el {when} por lagnest {version}"),
    "fingerprint": ("Data fingerprint: {fingerprint}",
                    "Huella de los datos: {fingerprint}"),
    "glossary": ("Codes", "Códigos"),
    "glossary.lead": ("Labels of the codes in this report, from the codebook {name}.",
                      "Etiquetas de los códigos de este informe, según el libro de códigos "
                      "{name}."),
    "col.code": ("code", "código"),
    "col.stream": ("stream", "flujo"),
    "col.label": ("label", "etiqueta"),
    # ------------------------------------------------------------------ report: lag tables
    "table.title": ("{given} → {target}, lag {lag}", "{given} → {target}, retardo {lag}"),
    "table.caption": (
        "Lag table {title}: adjusted residuals (cells also show the count n and the "
        "transitional probability prob = P(target | given)); boxed cells are significant "
        "at ",
        "Tabla de retardo {title}: residuos ajustados (cada celda muestra además la "
        "frecuencia n y la probabilidad de transición prob = P(consecuente | antecedente)); "
        "las celdas enmarcadas son significativas con "),
    "two_sided": (" (two-sided).", " (bilateral)."),
    "test.stationarity": (
        "Stationarity: are the transitional probabilities the same in the {parts} parts "
        "of the sessions ({by})? Likelihood-ratio G2 = {G2}, df = {df},",
        "Estacionariedad: ¿son iguales las probabilidades de transición en las {parts} "
        "partes de las sesiones ({by})? Razón de verosimilitudes G2 = {G2}, gl = {df},"),
    "by.half": ("halves of each session", "mitades de cada sesión"),
    "by.tercile": ("thirds of each session", "tercios de cada sesión"),
    "by.position": ("positions within each session", "posiciones dentro de cada sesión"),
    "by.session_order": ("each dyad's sessions in order", "sesiones de cada díada en orden"),
    "test.dominance": (
        "Parallel dominance (Wampold) between {a} and {b}: case {case}, kappa = {kappa}, "
        "z = {z},",
        "Dominancia paralela (Wampold) entre {a} y {b}: caso {case}, kappa = {kappa}, "
        "z = {z},"),
    "test.dominance_tail": (
        " (a positive kappa: the first's influence on the second is the stronger).",
        " (kappa positivo: la influencia del primero sobre el segundo es la mayor)."),
    "diagram.caption": (
        "Transition diagram {title}: arrow width is the lift P(target | given) / "
        "P(target); coloured arrows have a significant adjusted residual.",
        "Diagrama de transiciones {title}: el grosor de cada flecha es el lift "
        "P(consecuente | antecedente) / P(consecuente); las flechas de color tienen un "
        "residuo ajustado significativo."),
    # ------------------------------------------------------------------ report: analyses
    "spec.path": ("Spec: {path}", "Especificación: {path}"),
    "not_run": ("Not run: {why}", "No se corrió: {why}"),
    "no_result": ("no result given", "no se entregó un resultado"),
    "spec.file": ("File: {path}", "Archivo: {path}"),
    "sampler.used": ("{name}: sampler settings used",
                     "{name}: configuración del muestreador usada"),
    "structure.note": (
        "Structure fitted: grouping levels {levels}. The answers, figures and predictive "
        "check of this analysis follow it.",
        "Estructura ajustada: niveles de agrupación {levels}. Las respuestas, las figuras y "
        "el chequeo predictivo de este análisis la siguen."),
    "diag.none": ("No sampler diagnostics (prior draws).",
                  "Sin diagnósticos del muestreador (extracciones a priori)."),
    "diag.ok": ("all checks passed", "todas las comprobaciones pasaron"),
    "diag.failed": ("some checks failed", "algunas comprobaciones fallaron"),
    "diag.worst": ("Parameters with the largest R-hat (of {n})",
                   "Parámetros con el mayor R-hat (de {n})"),
    "versions.now": ("installed now", "instalado ahora"),
    "versions.package": ("package", "paquete"),
    # ------------------------------------------------------------------ report: checks
    "check.lead": ("{Group} predictive check of {model}: {n} replicates; {replication}.",
                   "Chequeo predictivo {group_es} de {model}: {n} réplicas; {replication}."),
    "check.omitted": ("Not checked on this corpus: ", "No chequeado en este corpus: "),
    "check.flagged": ("Flagged values", "Valores señalados"),
    "check.scalar": ("Whole-corpus statistics", "Estadísticos del corpus completo"),
    "check.columns": (
        "ppp_two_sided: two-sided predictive p-value, 2 min(ppp, 1 - ppp), with ppp = "
        "P(T_rep > T) + P(T_rep = T) / 2 over the replicates; replicated_lower, "
        "replicated_upper: central 95% interval of the replicates.",
        "ppp_bilateral: valor p predictivo posterior (ppp) bilateral, 2 min(ppp, 1 - ppp), "
        "con ppp = P(T_rep > T) + P(T_rep = T) / 2 sobre las réplicas; replicado_inf, "
        "replicado_sup: intervalo central del 95% de las réplicas."),
    "check.no_panels": ("No panels drawn: {error}", "No se dibujaron paneles: {error}"),
    "check.caption": (
        "{name}: replicated statistics (histograms) and the observed value (line; red when "
        "flagged); ppp: two-sided predictive p-value.",
        "{name}: estadísticos replicados (histogramas) y el valor observado (línea; roja "
        "cuando está señalado); ppp: valor p predictivo posterior bilateral."),
    "check.headline": (
        "{flagged} of {checked} checked values flagged at two-sided {group} predictive p "
        "(ppp) < {alpha}",
        "{flagged} de {checked} valores chequeados señalados con un valor p predictivo "
        "{group_es} bilateral (ppp) < {alpha}"),
    "check.undefined": (
        " ({n} undefined on this corpus, e.g. Yule's Q of an empty row, not counted)",
        " ({n} no definidos en este corpus, p. ej. la Q de Yule de una fila vacía; no se "
        "cuentan)"),
    "check.not_checked": ("; not checked: {names} (see the notes)",
                          "; no chequeados: {names} (ver las notas)"),
    "group.posterior": ("posterior", "posterior"),
    "group.prior": ("prior", "a priori"),
    # ------------------------------------------------------------------ report: forests
    "forest.regression": (
        "{name}: population log odds ratios of each predictor column for each category "
        "against {ref} (posterior mean, {level} interval; 0 = no effect).",
        "{name}: log de la razón de odds poblacional de cada columna predictora para cada "
        "categoría frente a {ref} (media posterior, intervalo de credibilidad del {level}; "
        "0 = sin efecto)."),
    "forest.regression_dyad": (
        "{name}: dyad-specific log odds ratios of {slope} for {category} beside the "
        "population estimate.",
        "{name}: log de la razón de odds de {slope} para {category} en cada díada, junto a "
        "la estimación poblacional."),
    "forest.dyad_title": ("{slope} → {category}: per dyad and pooled",
                          "{slope} → {category}: por díada y agrupado"),
    "forest.transition": (
        "{name}: log odds of {given} → {target} per dyad (partially pooled) beside each "
        "dyad alone (classical) and pooled.",
        "{name}: log odds de {given} → {target} por díada (agrupación parcial), junto a "
        "cada díada por separado (clásico) y al valor agrupado."),
    "figure.hmm_emissions": (
        "{name}: emission profiles, the probability of each code in each latent state "
        "(typical dyad, posterior median and interval).",
        "{name}: perfiles de emisión, la probabilidad de cada código en cada estado latente "
        "(díada típica, mediana a posteriori e intervalo)."),
    "figure.hmm_states": (
        "{name}: session {session} decoded: the posterior probability of each state per "
        "segment (most probable path as a line) over the coded streams.",
        "{name}: sesión {session} decodificada: la probabilidad a posteriori de cada estado "
        "por segmento (la trayectoria más probable como línea) sobre los flujos codificados."),
    "forest.hmm": (
        "{name}: log odds ratios of each predictor at t-1 on moving from one state to the "
        "other (against staying), typical dyad, {level} intervals.",
        "{name}: log odds ratios de cada predictor en t-1 sobre pasar de un estado al otro "
        "(frente a permanecer), díada típica, intervalos del {level}."),
    "forest.diagram": (
        "{name}: posterior transition diagram (arrows by lift; coloured where the interval "
        "excludes 1).",
        "{name}: diagrama de transiciones posterior (flechas según el lift; de color donde "
        "el intervalo excluye el 1)."),
    "forest.impact": (
        "{name}: effects of each {row} on each {panel} (posterior mean and interval; 0 = "
        "no effect).",
        "{name}: efectos de cada {row} sobre cada {panel} (media posterior e intervalo; "
        "0 = sin efecto)."),
    "the_reference": ("the reference", "la referencia"),
    "log_odds_ratio": ("log odds ratio", "log de la razón de odds"),
    "standardised_effect": ("standardised effect", "efecto estandarizado"),
    "panel": ("{dim} = {value}", "{dim} = {value}"),
    # ------------------------------------------------------------------ figures
    "name.adj_resid": ("adjusted residual z", "residuo ajustado z"),
    "name.counts": ("count", "frecuencia"),
    "name.expected": ("expected count", "frecuencia esperada"),
    "name.trans_prob": ("transitional probability", "probabilidad de transición"),
    "name.transition_probs": ("transitional probability", "probabilidad de transición"),
    "name.yules_q": ("Yule's Q", "Q de Yule"),
    "name.log_odds": ("log odds ratio", "log de la razón de odds"),
    "name.odds_ratio": ("odds ratio", "razón de odds"),
    "name.phi": ("phi", "phi"),
    "name.lift": ("lift", "lift"),
    "heat.boxed": ("\n(boxed, *: p < {alpha}, two-sided)",
                   "\n(enmarcadas, *: p < {alpha}, bilateral)"),
    "heat.grey": ("\ngrey: undefined", "\ngris: no definido"),
    "heat.hatched": (", hatched: structural zero", ", achurado: cero estructural"),
    "heat.target": ("target {stream}{at}", "consecuente {stream}{at}"),
    "heat.given": ("given {stream} (t)", "antecedente {stream} (t)"),
    "fig.title": ("{given} → {target}, lag {lag}", "{given} → {target}, retardo {lag}"),
    "diagram.width": ("\narrow width: {what}", "\ngrosor de las flechas: {what}"),
    "diagram.given": ("given (t)", "antecedente (t)"),
    "diagram.target": ("target (t + lag)", "consecuente (t + retardo)"),
    "diagram.other": ("other transitions", "otras transiciones"),
    "diagram.credible": ("{pct} interval of lift excludes 1",
                         "el intervalo del {pct} del lift excluye el 1"),
    "level.population": ("population", "población"),
    "level.typical": ("typical", "típico"),
    "level.dyad": ("dyad", "díada"),
    "level.session": ("session", "sesión"),
    "forest.partial": ("partially pooled (mean, {pct} interval)",
                       "agrupación parcial (media, intervalo del {pct})"),
    "forest.classical": ("classical, each {label} alone ({what})",
                         "clásico, cada {label} por separado ({what})"),
    "forest.wald": ("{pct} Wald interval", "intervalo de Wald del {pct}"),
    "forest.point": ("point", "puntual"),
    "forest.pooled": ("pooled", "agrupado"),
    "tforest.xlabel": ("{what}: {given} → {target} (lag {lag})",
                       "{what}: {given} → {target} (retardo {lag})"),
    "tforest.title": ("{given} → {target}: {what} per {level}",
                      "{given} → {target}: {what} por {level}"),
    "n/a": ("n/a", "n/d"),
    "ppc.suptitle": (
        "{Group} predictive check: {model}\n(ppp: two-sided {group} predictive p-value; "
        "red: ppp < {alpha})",
        "Chequeo predictivo {group_es}: {model}\n(ppp: valor p predictivo {group_es} "
        "bilateral; rojo: ppp < {alpha})"),
    # ------------------------------------------------------------------ printed summaries
    "sum.columns": ("Columns:", "Columnas:"),
    "sum.blank": ("Blank cells: ", "Celdas en blanco: "),
    "sum.hidden": ("Not printed (in .table and to_dataframe()): ",
                   "No impresas (están en .table y to_dataframe()): "),
    "sum.diagnostics": ("Diagnostics: ", "Diagnósticos: "),
    # ------------------------------------------------------------------ statistics a check omits
    # (lagnest.checks: why a statistic cannot be computed on a corpus; :func:`reword`)
    "omit.no_pairs": ("the data have no lag pair (no two coded segments {lag} apart in one "
                      "block)",
                      "los datos no tienen pares de retardo (ningún par de segmentos "
                      "codificados a {lag} de distancia en un mismo bloque)"),
    "omit.one_dyad": ("a single dyad has lag pairs: there is no other dyad to compare it with",
                      "una sola díada tiene pares de retardo: no hay otra díada con la cual "
                      "compararla"),
    "omit.one_session": ("every dyad has one session with lag pairs: there are no sessions "
                         "within a dyad to compare",
                         "cada díada tiene una sola sesión con pares de retardo: no hay "
                         "sesiones dentro de una díada que comparar"),
    "omit.rate_sd": ("fewer than two sessions have coded segments: a spread across sessions "
                     "needs two",
                     "menos de dos sesiones tienen segmentos codificados: una dispersión "
                     "entre sesiones necesita dos"),
    "omit.no_triples": ("no block has three coded segments t, t+{lag}, t+{lag2} (sessions too "
                        "short for a second-order table)",
                        "ningún bloque tiene tres segmentos codificados t, t+{lag}, t+{lag2} "
                        "(sesiones demasiado cortas para una tabla de segundo orden)"),
    "omit.undefined": ("it is undefined for every element on this corpus",
                       "no está definido para ningún elemento en este corpus"),
    "omit.df_G2": ("the pooled lag table has a single given or target code with pairs, so "
                   "independence has no degrees of freedom",
                   "la tabla de retardo agrupada tiene un solo código antecedente o "
                   "consecuente con pares, así que la independencia no tiene grados de "
                   "libertad"),
    "omit.df_homogeneity_dyads": (
        "no given code reaches two target codes in two dyads, so the test has no degrees "
        "of freedom",
        "ningún código antecedente alcanza dos códigos consecuentes en dos díadas, así que "
        "la prueba no tiene grados de libertad"),
    "omit.df_homogeneity_sessions": (
        "no given code reaches two target codes in two sessions of one dyad, so the test "
        "has no degrees of freedom",
        "ningún código antecedente alcanza dos códigos consecuentes en dos sesiones de una "
        "díada, así que la prueba no tiene grados de libertad"),
    "omit.df_second_order_G2": (
        "the second-order table has no degrees of freedom (every middle code has a single "
        "code before or after it)",
        "la tabla de segundo orden no tiene grados de libertad (cada código central tiene "
        "un solo código antes o después)"),
    "omit.sd": ("fewer than two sessions", "menos de dos sesiones"),
    "omit.dyad_sd": ("fewer than two dyads have sessions: there is no spread between dyads",
                     "menos de dos díadas tienen sesiones: no hay dispersión entre díadas"),
    "omit.within_dyad_sd": ("every dyad has one session: there is no spread within a dyad",
                            "cada díada tiene una sola sesión: no hay dispersión dentro de "
                            "una díada"),
    "omit.correlation": ("a single outcome: its correlation with itself is 1",
                         "un solo resultado: su correlación consigo mismo es 1"),
    # ------------------------------------------------------------------ HMMResult.summary
    "hmm.to": ("to {state}", "a {state}"),
    "hmm.from": ("from {state}", "desde {state}"),
    "hmm.typical": ("typical dyad", "díada típica"),
    "hmm.alike": ("every dyad alike (no dyad level fitted)",
                  "todas las díadas iguales (sin nivel de díada ajustado)"),
    "hmm.transition": ("P(state at t | state at t - 1, the row): posterior median ({pct} "
                       "intervals via result.transition_probs()), {who} with every predictor "
                       "absent",
                       "P(estado en t | estado en t - 1, la fila): mediana a posteriori "
                       "(intervalos del {pct} con result.transition_probs()), {who} con "
                       "todos los predictores ausentes"),
    "hmm.stationary": ("long-run share of each state (posterior median)",
                       "proporción de cada estado a largo plazo (mediana a posteriori)"),
    "hmm.dwell": ("expected segments per visit to the state (posterior median)",
                  "segmentos esperados por visita al estado (mediana a posteriori)"),
    "hmm.ordered": ("States are ordered by {order} (its emission probability grows with "
                    "the state).",
                    "Los estados están ordenados por {order} (su probabilidad de emisión "
                    "crece con el estado)."),
    # ------------------------------------------------------------------ HMM figures
    "hmmfig.state": ("state {state}", "estado {state}"),
    "hmmfig.emission": ("emission probability", "probabilidad de emisión"),
    "hmmfig.profiles": ("Emission profiles (typical dyad; medians, {pct} intervals)",
                        "Perfiles de emisión (díada típica; medianas, intervalos del {pct})"),
    "hmmfig.path": ("most probable path (scaled)", "trayectoria más probable (escalada)"),
    "hmmfig.p_state": ("P(state)", "P(estado)"),
    "hmmfig.session": ("Session {session}", "Sesión {session}"),
    "hmmfig.segment": ("segment", "segmento"),
    # ------------------------------------------------------------------ sampler diagnostics
    "diag.head": ("R-hat max {rhat}, bulk ESS min {bulk}, tail ESS min {tail}, divergences "
                  "{div}, max tree depth hits {depth}, E-BFMI min {bfmi} ({chains} chains, "
                  "{draws} draws)",
                  "R-hat máx. {rhat}, ESS central mín. {bulk}, ESS de colas mín. {tail}, "
                  "divergencias {div}, profundidad máxima alcanzada {depth}, E-BFMI mín. "
                  "{bfmi} ({chains} cadenas, {draws} extracciones)"),
    "diag.failed_check": ("FAILED:", "FALLÓ:"),
    "sum.undefined": ("not defined for that row", "no definido para esa fila"),
    "head.posterior": ("{model} posterior (id {id}, seed {seed})",
                       "{model}, posterior (id {id}, semilla {seed})"),
    "head.prior": ("{model} prior draws (id {id}, seed {seed})",
                   "{model}, extracciones a priori (id {id}, semilla {seed})"),
    "head.sampler": (
        "  sampler {sampler}: {chains} chains x {draws} draws (tune {tune}), compile "
        "{compile:.1f} s, sampling {sampling:.1f} s",
        "  muestreador {sampler}: {chains} cadenas x {draws} extracciones (calentamiento "
        "{tune}), compilación {compile:.1f} s, muestreo {sampling:.1f} s"),
    "head.quick": (
        "  QUICK MODE (LAGNEST_QUICK): shortened chains and no convergence warning, a check "
        "that the code runs: do not read these estimates",
        "  MODO RÁPIDO (LAGNEST_QUICK): cadenas acortadas y sin advertencias de "
        "convergencia, solo para verificar que el código corre: no interprete estas "
        "estimaciones"),
    "head.levels": ("grouping levels: ", "niveles de agrupación: "),
    "head.param": ("parameterization: ", "parametrización: "),
    "head.note": ("note: ", "nota: "),
    "levels.pooled": ("none (complete pooling)", "ninguno (agrupación completa)"),
    "none": ("none", "ninguno"),
    "and": (" and ", " y "),
    "head.transition": (
        "  {given} -> {target} at lag {lag}, deviations {deviations}: {pairs} pairs in "
        "{sessions} sessions of {dyads} dyads",
        "  {given} -> {target} con retardo {lag}, desviaciones {deviations}: {pairs} pares "
        "en {sessions} sesiones de {dyads} díadas"),
    "where.population": ("averaged over {groups}", "promediado sobre {groups}"),
    "where.pooled": ("one table for every session (complete pooling)",
                     "una sola tabla para todas las sesiones (agrupación completa)"),
    "where.typical_both": ("in the typical session of the typical dyad",
                           "en la sesión típica de la díada típica"),
    "where.typical_dyad": ("in the typical dyad", "en la díada típica"),
    "where.typical_session": ("in the typical session", "en la sesión típica"),
    "where.dyad_session": ("in each dyad's typical session",
                           "en la sesión típica de cada díada"),
    "where.dyad": ("in each dyad", "en cada díada"),
    "where.session": ("in each session", "en cada sesión"),
    "groups.both": ("new dyads and sessions", "nuevas díadas y sesiones"),
    "groups.dyad": ("new dyads", "nuevas díadas"),
    "groups.session": ("new sessions", "nuevas sesiones"),
    # TransitionResult.summary
    "tr.count": ("pairs in the cell of the pooled lag table (classical)",
                 "pares en la celda de la tabla de retardo agrupada (clásico)"),
    "tr.prob_pooled": (
        "observed transitional probability P(target | given) of the pooled table "
        "(classical)",
        "probabilidad de transición observada P(consecuente | antecedente) de la tabla "
        "agrupada (clásico)"),
    "tr.prob_mean": ("posterior mean of P(target | given), {where}",
                     "media posterior de P(consecuente | antecedente), {where}"),
    "tr.interval": ("its {pct} credible interval", "su intervalo de credibilidad del {pct}"),
    "tr.prob_typical": ("P(target | given), {where}", "P(consecuente | antecedente), {where}"),
    "tr.lift": (
        "P(target | given) / P(target), posterior mean (above 1: the target is more likely "
        "after this given code)",
        "P(consecuente | antecedente) / P(consecuente), media posterior (sobre 1: el "
        "consecuente es más probable después de este antecedente)"),
    "tr.Q_classical": ("Yule's Q of the cell's collapsed 2 x 2 table (classical)",
                       "Q de Yule de la tabla 2 x 2 colapsada de la celda (clásico)"),
    "tr.Q_mean": ("posterior mean of Yule's Q, {where}",
                  "media posterior de la Q de Yule, {where}"),
    "tr.P(Q>0)": ("posterior probability that the association is positive",
                  "probabilidad posterior de que la asociación sea positiva"),
    "tr.logOR_classical": ("log odds ratio of the collapsed 2 x 2 table (classical)",
                           "log de la razón de odds de la tabla 2 x 2 colapsada (clásico)"),
    "tr.logOR": ("its posterior mean and {pct} interval",
                 "su media posterior e intervalo de credibilidad del {pct}"),
    "tr.blank": ("not defined for a structural zero or an empty row",
                 "no definido para un cero estructural o una fila vacía"),
    # RegressionResult.summary
    "rg.head": (
        "  {target} at t on {predictors} at lags {lags} (history {history}, centring "
        "{center}, shrinkage {shrinkage}): {segments} segments in {rows} session x pattern "
        "rows",
        "  {target} en t según {predictors} con retardos {lags} (historia {history}, "
        "centrado {center}, contracción {shrinkage}): {segments} segmentos en {rows} filas "
        "sesión x patrón"),
    "rg.no_terms": ("(no terms)", "(sin términos)"),
    "rg.OR": (
        "odds ratio of the category against {ref}, column present vs absent (per SD for "
        "covariates), typical dyad and session: posterior median",
        "razón de odds de la categoría frente a {ref}, columna presente vs. ausente (por DE "
        "en las covariables), díada y sesión típicas: mediana posterior"),
    "rg.OR_mean": ("its posterior mean", "su media posterior"),
    "rg.P(OR>1)": ("posterior probability that the odds ratio exceeds 1",
                   "probabilidad posterior de que la razón de odds sea mayor que 1"),
    "rg.AME": (
        "average marginal effect: mean change in P(category) over the fitted segments, in "
        "their dyads",
        "efecto marginal promedio: cambio medio de P(categoría) sobre los segmentos "
        "ajustados, en sus díadas"),
    "rg.z_classical": (
        "adjusted residual of the classical lag table of that predictor alone (cell "
        "present -> category)",
        "residuo ajustado de la tabla de retardo clásica de ese predictor por sí solo "
        "(celda presente -> categoría)"),
    "rg.Q_classical": ("Yule's Q of that cell (classical, no adjustment for the others)",
                       "Q de Yule de esa celda (clásico, sin ajustar por los demás)"),
    "rg.n_pairs": ("lag pairs in that cell (predictor present, then the category)",
                   "pares de retardo en esa celda (predictor presente, luego la categoría)"),
    "rg.sparse": (
        "{k} odds ratios rest on fewer than {n} lag pairs in their cell (n_pairs): their "
        "intervals are mostly the prior's.",
        "{k} razones de odds se apoyan en menos de {n} pares de retardo en su celda "
        "(n_pares): sus intervalos son sobre todo los de la distribución a priori."),
    "rg.sparse.one": (
        "{k} odds ratio rests on fewer than {n} lag pairs in its cell (n_pairs): its "
        "interval is mostly the prior's.",
        "{k} razón de odds se apoya en menos de {n} pares de retardo en su celda "
        "(n_pares): su intervalo es sobre todo el de la distribución a priori."),
    "rg.sparse.measured": (
        "With the default prior, in simulated studies such non-zero effects were estimated "
        "at 40% of their size on average, and the 95% intervals of such null effects "
        "excluded OR = 1 in 9% of the studies (docs/lagged_regression.md).",
        "Con la distribución a priori por defecto, en estudios simulados esos efectos no "
        "nulos se estimaron en promedio en el 40 % de su tamaño, y los intervalos del 95 % "
        "de esos efectos nulos excluyeron OR = 1 en el 9 % de los estudios "
        "(docs/lagged_regression.md)."),
    "rg.kind.interaction": ("interaction columns", "columnas de interacción"),
    "rg.kind.covariates": ("covariates", "covariables"),
    "rg.kind.initial": ("first-segment states", "estados del primer segmento"),
    "rg.kind.these": ("these columns", "estas columnas"),
    "rg.blank.AME": ("not defined for {which} (no single code switched on and off)",
                     "no definido para {which} (no hay un único código que se active y "
                     "desactive)"),
    "rg.blank.classical": ("no single lag table for {which}",
                           "no hay una única tabla de retardo para {which}"),
    "rg.population": ("For {groups} on average see result.odds_ratios(level='population').",
                      "Para el promedio sobre {groups}, vea "
                      "result.odds_ratios(level='population')."),
    "rg.chance": (
        "{n} intervals of the predictors' odds ratios: if every effect were null, about "
        "{chance:.1f} of them would exclude 1 by chance at {pct} (nominal rate{measured}).",
        "{n} intervalos de las razones de odds de los predictores: si todos los efectos "
        "fueran nulos, cerca de {chance:.1f} de ellos excluirían el 1 por azar al {pct} "
        "(tasa nominal{measured})."),
    "rg.chance.measured": (
        "; measured with the default prior in simulated studies of 6 to 20 dyads with 10 to "
        "30 segments per session: {low} to {high} per null slope, see "
        "docs/lagged_regression.md",
        "; medida con la distribución a priori por defecto en estudios simulados de 6 a 20 "
        "díadas con 10 a 30 segmentos por sesión: de {low} a {high} por pendiente nula, ver "
        "docs/lagged_regression.md"),
    # SessionImpactResult.summary
    "im.head": (
        "  {outcomes} on {predictors}: {sessions} sessions of {dyads} dyads; predictors "
        "centred {centred}, {residuals} residuals",
        "  {outcomes} según {predictors}: {sessions} sesiones de {dyads} díadas; "
        "predictores centrados {centred}, residuos {residuals}"),
    "im.none": ("(none)", "(ninguno)"),
    "im.within": ("within dyad", "dentro de cada díada"),
    "im.grand": ("on the grand mean", "en la media general"),
    "im.mean": ("posterior mean of the standardised effect (outcome SDs per predictor SD)",
                "media posterior del efecto estandarizado (DE del resultado por DE del "
                "predictor)"),
    "im.sd": ("its posterior SD", "su DE posterior"),
    "im.P(>0)": ("posterior probability of a positive effect",
                 "probabilidad posterior de un efecto positivo"),
    "im.raw_mean": ("the posterior mean in raw units (outcome units per predictor unit)",
                    "la media posterior en unidades brutas (unidades del resultado por "
                    "unidad del predictor)"),
    "im.ols": ("classical least squares per outcome on the same standardised data, {how}",
               "mínimos cuadrados clásicos por resultado sobre los mismos datos "
               "estandarizados, {how}"),
    "im.ols_fixed": ("with dyad fixed effects", "con efectos fijos de díada"),
    "im.ols_intercept": ("with an intercept", "con intercepto"),
    "im.ols_interval": ("its {pct} t interval (normal residuals, outcomes separately)",
                        "su intervalo t del {pct} (residuos normales, cada resultado por "
                        "separado)"),
    "not_code": ("not", "sin"),
    "first_segment": ("first segment", "primer segmento"),
    "segment_n": ("segment {n}", "segmento {n}"),
    "form.centered": ("centered", "centrada"),
    "form.noncentered": ("noncentered", "no centrada"),
}

#: Column and index names of printed tables: English name -> Spanish name.
COLUMNS: dict[str, str] = {
    # HMMResult.summary
    "stationary": "estacionaria", "dwell": "permanencia", "state": "estado",
    "move": "transición",
    # TransitionResult.summary
    "count": "n", "prob_pooled": "prob_agrupada", "prob_mean": "prob_media",
    "prob_lower": "prob_inf", "prob_upper": "prob_sup", "prob_typical": "prob_típica",
    "lift": "lift", "Q_classical": "Q_clásica", "Q_mean": "Q_media", "Q_lower": "Q_inf",
    "Q_upper": "Q_sup", "P(Q>0)": "P(Q>0)", "logOR_classical": "logOR_clásico",
    "logOR_mean": "logOR_media", "logOR_lower": "logOR_inf", "logOR_upper": "logOR_sup",
    # RegressionResult.summary
    "OR": "OR", "OR_mean": "OR_media", "OR_lower": "OR_inf", "OR_upper": "OR_sup",
    "P(OR>1)": "P(OR>1)", "AME": "EMP", "z_classical": "z_clásico", "n_pairs": "n_pares",
    # SessionImpactResult.summary
    "mean": "media", "sd": "de", "lower": "inf", "upper": "sup", "P(>0)": "P(>0)",
    "raw_mean": "media_bruta", "ols": "mco", "ols_lower": "mco_inf", "ols_upper": "mco_sup",
    # index names
    "given": "antecedente", "target": "consecuente", "feature": "predictor",
    "category": "categoría", "outcome": "resultado", "predictor": "predictor",
    "dyad": "díada", "session": "sesión", "unit": "unidad",
    # predictive-check and diagnostics tables of the report
    "statistic": "estadístico", "element": "elemento", "observed": "observado",
    "replicated_mean": "replicado_media", "replicated_lower": "replicado_inf",
    "replicated_upper": "replicado_sup", "ppp_two_sided": "ppp_bilateral",
    "parameter": "parámetro",
}


#: The sampler diagnostics' failure messages (``lagnest.models._fit``), phrase by phrase:
#: English pattern -> Spanish replacement (parameter names and numbers kept).
FAILURE_PHRASES: tuple[tuple[str, str], ...] = (
    (r"^bulk ESS <", "ESS central <"),
    (r"^tail ESS <", "ESS de colas <"),
    (r" and (\d+) more$", r" y \1 más"),
    (r"^(\d+) divergent transitions \(of (\d+) draws\)$",
     r"\1 transiciones divergentes (de \2 extracciones)"),
    (r"^(\d+) draws hit the maximum tree depth$",
     r"\1 extracciones alcanzaron la profundidad máxima del árbol"),
    (r" in at least one chain$", " en al menos una cadena"),
)


def failure_text(message: str, lang: str) -> str:
    """A failed diagnostic check's message in ``lang`` (parameter names unchanged)."""
    if check_lang(lang) == "en":
        return message
    for pattern, replacement in FAILURE_PHRASES:
        message = re.sub(pattern, replacement, message)
    return message


def reword(text: str, lang: str, prefix: str = "omit.") -> str:
    """``text``, an English entry of the catalogue with its fields filled, in ``lang``.

    For texts that are stored in English (e.g. why a predictive check left a statistic
    out, kept in the check's ``omitted``) and shown later in another language: the entry
    (among the keys starting with ``prefix``) whose English template matches ``text`` is
    filled with the same field values in ``lang``. A text that matches no entry is
    returned unchanged.

    Parameters
    ----------
    text : str
    lang : {"en", "es"}
    prefix : str, default "omit."

    Returns
    -------
    str
    """
    if check_lang(lang) == "en":
        return text
    for key, (english, _) in WORDS.items():
        if not key.startswith(prefix):
            continue
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(english))
        match = re.fullmatch(pattern, text)
        if match:
            return translate(key, lang, **match.groupdict())
    return text


def check_lang(lang: Any) -> str:
    """Return ``lang`` when lagnest speaks it, else raise ``ValueError`` naming the choices.

    Parameters
    ----------
    lang : str
        ``"en"`` or ``"es"``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For any other value.
    """
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(map(repr, LANGUAGES))}; got {lang!r}")
    return lang


def translate(key: str, lang: str = "en", /, **fields: Any) -> str:
    """The text of ``key`` in ``lang``, its ``{fields}`` filled.

    Parameters
    ----------
    key : str
        An entry of :data:`WORDS`.
    lang : {"en", "es"}, default "en"
    **fields
        Values of the text's ``{name}`` fields.

    Returns
    -------
    str
    """
    text = WORDS[key][LANGUAGES.index(check_lang(lang))]
    return text.format(**fields) if fields else text


def words(lang: str) -> dict[str, str]:
    """Every entry of the catalogue in ``lang``, by key (its ``{fields}`` unfilled)."""
    i = LANGUAGES.index(check_lang(lang))
    return {key: texts[i] for key, texts in WORDS.items()}


def column_name(name: Any, lang: str) -> Any:
    """The name of a printed column (or index level) in ``lang``; unknown names unchanged."""
    if check_lang(lang) == "en" or not isinstance(name, str):
        return name
    return COLUMNS.get(name, name)


def group_word(group: str, lang: str) -> str:
    """``"posterior"`` or ``"prior"`` (a predictive check's group) as an adjective in ``lang``."""
    key = f"group.{group}"
    return translate(key, lang) if key in WORDS else group


def code_label(code: Any, lang: str, codebook: Any = None) -> str:
    """How a code (or a stream) is shown in ``lang``.

    English shows the code itself. Spanish shows the codebook's Spanish label of a named
    category or a stream (``withdrawal`` -> "Retirada", ``rupture`` -> "Tipo de
    ruptura"), keeps a manual's identifiers (``MIA4``, ``W1``) and codes the codebook does
    not know, and writes the "not X" of a binary table as "sin X".

    Parameters
    ----------
    code : str
    lang : {"en", "es"}
    codebook : Codebook, optional
        Any object with ``display_label(code, lang)``; without one codes stay codes.

    Returns
    -------
    str
    """
    text = str(code)
    if check_lang(lang) == "en":
        return text
    if text.startswith("not "):
        return f"{translate('not_code', lang)} {code_label(text[4:], lang, codebook)}"
    if codebook is None or not hasattr(codebook, "display_label"):
        return text
    stream, _, bare = text.rpartition(":")
    if stream and not bare:
        return text
    label = codebook.display_label(bare or text, lang)
    return label or text


def code_labels(codes: Iterable[Any], lang: str, codebook: Any = None) -> list[str]:
    """:func:`code_label` of each code; the codes themselves where two labels would clash."""
    codes = [str(c) for c in codes]
    labels = [code_label(c, lang, codebook) for c in codes]
    if len(set(labels)) < len(labels):
        seen: dict[str, int] = {}
        for label in labels:
            seen[label] = seen.get(label, 0) + 1
        labels = [lab if seen[lab] == 1 else code for lab, code in zip(labels, codes,
                                                                       strict=True)]
    return labels


def label_map(codes: Iterable[Any], lang: str, codebook: Any = None) -> Mapping[str, str]:
    """Code -> shown label (:func:`code_labels`) for relabelling a table's index."""
    codes = [str(c) for c in codes]
    return dict(zip(codes, code_labels(codes, lang, codebook), strict=True))
