"""Federated learning algorithms (`tffx.learning.algorithms`, like TFF's).

Each builds a `tffx.learning.templates.LearningProcess` with
`compose_learning_process` (broadcast, client work, aggregator, finalizer):

    build_weighted_fed_avg / build_unweighted_fed_avg     Federated Averaging
    build_weighted_fed_prox / build_unweighted_fed_prox   FedProx
    build_fed_sgd                                         Federated SGD
    build_fed_eval                                        federated evaluation
    build_weighted_fed_avg_with_optimizer_schedule        FedAvg, scheduled client
                                                          learning rate
    build_weighted_mime_lite / build_unweighted_mime_lite Mime Lite
    build_mime_lite_with_optimizer_schedule
    build_fed_kmeans                                      federated k-means
    build_fed_recon / build_fed_recon_eval                Federated Reconstruction
    build_personalization_eval_computation                personalization strategies

and `build_model_delta_client_work`, the client work of FedAvg and FedProx
(defined in `tffx.learning.templates`, as in TFF; re-exported here).
"""

from tffx.learning.algorithms.fed_avg import build_unweighted_fed_avg as build_unweighted_fed_avg
from tffx.learning.algorithms.fed_avg import build_weighted_fed_avg as build_weighted_fed_avg
from tffx.learning.algorithms.fed_eval import build_fed_eval as build_fed_eval
from tffx.learning.algorithms.fed_prox import build_unweighted_fed_prox as build_unweighted_fed_prox
from tffx.learning.algorithms.fed_prox import build_weighted_fed_prox as build_weighted_fed_prox
from tffx.learning.algorithms.fed_sgd import build_fed_sgd as build_fed_sgd
from tffx.learning.templates.model_delta_client_work import build_model_delta_client_work as build_model_delta_client_work
from tffx.learning.algorithms.fed_avg_with_optimizer_schedule import build_weighted_fed_avg_with_optimizer_schedule as build_weighted_fed_avg_with_optimizer_schedule
from tffx.learning.algorithms.mime import build_mime_lite_with_optimizer_schedule as build_mime_lite_with_optimizer_schedule
from tffx.learning.algorithms.mime import build_unweighted_mime_lite as build_unweighted_mime_lite
from tffx.learning.algorithms.mime import build_weighted_mime_lite as build_weighted_mime_lite
from tffx.learning.algorithms.kmeans_clustering import build_fed_kmeans as build_fed_kmeans
from tffx.learning.algorithms.fed_recon import build_fed_recon as build_fed_recon
from tffx.learning.algorithms.fed_recon_eval import build_fed_recon_eval as build_fed_recon_eval
from tffx.learning.algorithms.personalization_eval import build_personalization_eval_computation as build_personalization_eval_computation
