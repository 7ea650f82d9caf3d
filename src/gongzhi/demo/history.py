"""A year of made-up history for the demo city 示范市: about 20,000 cases with their timelines.

Deterministic: the same seed, the same ``now`` and the same city give the same cases, texts,
places and times. Everything is invented: the texts come from the templates below (written
for gongzhi, one or more per first-level category and for the matters a 12345 hotline hears
most: 路灯不亮, 占道经营, 噪音扰民, 小区漏水, 欠薪, 学位, 医保, 油烟, 违建, 停车 ...), the
places are the demo city's own fictional regions, names are drawn from a list of surnames and
given-name characters, and phone numbers are masked (``138****5621``), so no real person's
data can appear.

The shape of the year (see ``tests/test_history.py`` for the bounds):

- channels: hotline 55%, mobile app 14%, grid patrol 12%, website 10%, letters and visits 4%,
  Open311 3%, mass organisations 2%;
- urgency: 3% danger to life or property, 10% urgent;
- outcomes: 3% not accepted, about 90% closed, the rest open: recent cases still on their way
  and about 4.5% that stalled (long matters in progress, cases never signed for, returned
  cases nobody re-dispatched, which the clock escalates);
- about 6% returned once by the first unit, 2% escalated for a late dispatch, 8% of first
  replies late (the clock then warns and supervises by rule), 2% failing verification,
  1.5% reopened after an unsatisfied follow-up, 1.5% supervised by a district leader;
- follow-ups (not for anonymous and grid patrol cases): 85% satisfied, 10% basically,
  5% unsatisfied;
- places: every grid gets cases, urban districts about three times as many per grid as the
  counties, points inside the grid's box; times over the 12 months before ``now``, fewer on
  rest days and at night, heating in winter, school places in spring and summer.

``generate_history`` returns ``cases.imports.HistoricalCase`` specs; ``import_history`` builds
and imports them (``gongzhi demo`` does, see ``build.build_demo_city``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from django.utils import timezone

from gongzhi.accounts.services import system_actor
from gongzhi.cases.choices import (
    CaseKind,
    Channel,
    Complexity,
    Resolution,
    Satisfaction,
    Stage,
    Urgency,
)
from gongzhi.cases.imports import (
    HISTORY_PREFIX,
    Clock,
    HistoricalCase,
    HistoricalStep,
    ImportReport,
    Routes,
    history_exists,
    history_number,
    import_historical_cases,
)
from gongzhi.cases.models import Case, Category
from gongzhi.cases.workflow import Action
from gongzhi.core.working_days import LOCAL
from gongzhi.territory.choices import RegionLevel, UnitKind
from gongzhi.territory.models import Region, Unit

HISTORY_CASES = 20_000  # the full demo city's year
HISTORY_SEED = 20261127

# --- The year's shape ---------------------------------------------------------------------------

CHANNEL_SHARES: tuple[tuple[str, float], ...] = (
    (Channel.HOTLINE, 0.55),
    (Channel.MOBILE, 0.14),
    (Channel.GRID_PATROL, 0.12),
    (Channel.WEB, 0.10),
    (Channel.LETTERS_VISITS, 0.04),
    (Channel.OPEN311, 0.03),
    (Channel.MASS_ORGANISATION, 0.02),
)
URGENCY_SHARES: tuple[tuple[str, float], ...] = (
    (Urgency.NORMAL, 0.87),
    (Urgency.URGENT, 0.10),
    (Urgency.DANGER, 0.03),
)
SATISFACTION_SHARES: tuple[tuple[str, float], ...] = (
    (Satisfaction.SATISFIED, 0.85),
    (Satisfaction.BASICALLY, 0.10),
    (Satisfaction.UNSATISFIED, 0.05),
)
REJECTED = 0.03
STALLED = 0.045
RETURNED = 0.065
ESCALATED = 0.02
LATE_REPLY = 0.07  # and a few more that were signed for too late to answer in time: ~8%
LATE_SIGN = 0.03
FAILED_VERIFICATION = 0.02
REOPENED = 0.015
SUPERVISED_BY_LEADER = 0.015
ANONYMOUS = 0.06
COUNTY_WEIGHT = 0.35  # cases per grid in a county, against 1.0 in an urban district
# Submissions per hour of the day (local time); grid workers patrol in the daytime.
HOURS = (1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 2.5, 5, 8, 9, 8, 5, 5, 7, 8, 8, 6, 4, 4, 4, 3, 2, 1.5)
PATROL_HOURS = (0, 0, 0, 0, 0, 0, 0, 1, 5, 8, 8, 6, 2, 3, 7, 8, 6, 2, 0, 0, 0, 0, 0, 0)
REST_DAY_WEIGHT = 0.6
MONTH_WEIGHT = {1: 0.95, 2: 0.8, 3: 0.95, 4: 1.0, 5: 1.0, 6: 1.1, 7: 1.2, 8: 1.2, 9: 1.0,
                10: 0.9, 11: 0.95, 12: 1.0}  # fmt: skip

# --- Texts: templates written for gongzhi ------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """One kind of matter: its category, texts with ``{placeholders}`` and where it happens.

    ``titles``, ``details`` and ``replies`` go together by position: the n-th title (one of
    its ``|``-separated variants) and reply belong to the n-th detail.

    ``place``: how the address reads (home, estate, road, shop, school, company, village,
    none). ``patrol``: a grid worker may find it. ``danger``/``urgent``: it can be that
    urgent. ``area``: urban, rural or any. ``months``: in season (three times as frequent;
    a tenth outside).
    """

    path: str
    kind: str
    weight: float
    titles: tuple[str, ...]
    details: tuple[str, ...]
    replies: tuple[str, ...]
    place: str = "home"
    patrol: bool = False
    danger: bool = False
    urgent: bool = False
    area: str = "any"
    complex_share: float = 0.04
    months: tuple[int, ...] = ()


K = CaseKind
TEMPLATES: tuple[Template, ...] = (
    # 城乡建设 ------------------------------------------------------------------------------
    Template(
        "城乡建设/城市建设和市政管理/城市公共设施",
        K.REPORT,
        6,
        ("{where}一段路灯损坏多日|{community}内路灯长期不亮", "{road}路灯不亮|{road}路灯时亮时灭"),
        (
            "{where}一带有{few}盏路灯已经连续{days}天不亮，晚上路面漆黑，行人和电动车经过很不安全，"
            "附近老人晚上都不敢出门。",
            "{road}靠近{community}的路段路灯时亮时灭，最近{days}天干脆全部不亮，夜间有车辆和行人险些相撞。",
        ),
        (
            "经现场核查，该路段路灯线路老化导致跳闸，维修人员已更换线路和灯具，现已恢复正常照明。",
            "已安排路灯维护班组到现场检修，更换损坏灯具{few}套，目前路灯已全部点亮，后续将加强夜间巡查。",
        ),
        place="road",
        patrol=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/城市公共设施",
        K.HAZARD,
        1.5,
        ("{road}井盖缺失存在安全隐患", "{where}窨井盖破损下陷"),
        (
            "{where}人行道上一处窨井盖缺失，只用几块砖头简单围着，晚上看不清，已经有行人差点踩空。",
            "{road}与{road2}交叉口附近的雨水井盖破裂下陷，车辆经过时响声很大，随时可能有人掉下去。",
        ),
        (
            "接报后养护单位立即设置围挡和警示标志，并于当天更换了新的防坠井盖，隐患已消除。",
            "经核实该井盖属排水管网设施，已由排水养护单位更换加固，并对周边井盖进行了排查。",
        ),
        place="road",
        patrol=True,
        danger=True,
        urgent=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/城管执法",
        K.COMPLAINT,
        4,
        (
            "{road}流动摊贩占道经营|{community}门口夜市摊点占用人行道",
            "{where}商户占道经营影响通行",
        ),
        (
            "每天傍晚开始，{road}靠近{community}的人行道上摆满了水果和小吃摊位，行人只能走到机动车道上，"
            "垃圾也随地乱扔。",
            "{where}一带几家店铺长期把货架和桌椅摆到人行道上，盲道被完全占用，推婴儿车和坐轮椅的居民无法通行。",
        ),
        (
            "城管执法中队已到现场劝导，督促商户将物品收回店内，对流动摊贩进行了疏导，后续将安排错时巡查，防止反弹。",
            "经现场核查情况属实，执法人员已依法责令相关商户限期整改，目前人行道已恢复畅通。",
        ),
        place="road",
        patrol=True,
        area="urban",
    ),
    Template(
        "城乡建设/城市建设和市政管理/环境卫生",
        K.COMPLAINT,
        3.5,
        ("{community}垃圾清运不及时|{where}垃圾桶满溢无人清理", "{road}路边垃圾堆放多日"),
        (
            "{where}的垃圾桶已经满了{days}天没人清运，周边气味很大，还招来很多苍蝇蚊子。",
            "{road}边的空地上堆了不少建筑垃圾和生活垃圾，已经有{days}天了，风一吹到处都是。",
        ),
        (
            "环卫部门已安排车辆对该处垃圾进行清运，并调整了清运频次，每天早晚各清运一次。",
            "经核实该处垃圾为附近装修户违规倾倒，已清运完毕，并在现场设置了禁止倾倒的提示牌，社区将加强巡查。",
        ),
        place="estate",
        patrol=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/基础设施",
        K.REPORT,
        3,
        ("{road}路面坑洼破损", "{where}人行道地砖松动破损"),
        (
            "{road}靠近{community}的一段路面出现多处坑洼，下雨天积水看不清深浅，电动车经过容易摔倒。",
            "{where}的人行道地砖大面积松动翘起，踩上去会溅起泥水，老人走路很容易绊倒。",
        ),
        (
            "市政养护单位已对该路段坑槽进行了修补，路面已恢复平整；该路段已列入本年度道路维修计划。",
            "已对松动破损的人行道地砖重新铺设，并对周边路段进行了排查。",
        ),
        place="road",
        patrol=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/基础设施",
        K.COMPLAINT,
        2,
        ("{community}下水道堵塞污水外溢", "{where}化粪池满溢"),
        (
            "{where}楼下的下水道堵了，污水从井口冒出来流到路面上，臭味很重，居民出门都要绕着走。",
            "小区内化粪池已经满了，污水外溢到绿化带，{days}天了物业说联系不上清掏单位。",
        ),
        (
            "经现场查看为管道内被油污和杂物堵塞，排水养护单位已使用疏通车完成疏通，现场已冲洗干净。",
            "已协调清掏单位对化粪池进行了清掏，并督促物业建立定期清掏制度。",
        ),
        place="estate",
        urgent=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/园林绿化",
        K.REPORT,
        2,
        ("{road}行道树倾斜存在倒伏隐患", "{where}树枝遮挡窗户和路灯", "{road}大树被风刮倒压住道路"),
        (
            "{road}一棵行道树严重倾斜，根部土壤松动，刮风下雨时摇晃得很厉害，下面就是公交站台。",
            "{where}楼前的树木长得太高，树枝伸进了低层住户的窗户，还挡住了路灯，希望安排修剪。",
            "昨晚大风把{road}边的一棵大树刮倒，横在非机动车道上，还压住了电线。",
        ),
        (
            "园林部门已到现场对倾斜树木进行了扶正加固，并对周边树木进行了安全排查。",
            "已安排绿化养护人员对该处树木进行修剪，修剪后不再影响采光和照明。",
            "已组织人员清理倒伏树木，供电部门同步抢修了受损线路，道路已恢复通行。",
        ),
        place="road",
        patrol=True,
        danger=True,
        urgent=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/小区管理",
        K.COMPLAINT,
        3,
        (
            "{community}小区停车难、车辆乱停|{where}车辆乱停堵塞消防通道",
            "{estate}地面车位被外来车辆占用",
        ),
        (
            "{estate}车位严重不足，每天晚上车辆停满主干道和消防通道，救护车都进不来，物业也不管。",
            "小区地面车位被外来车辆长期占用，业主下班回来没地方停车，物业收了停车费却不进行管理。",
        ),
        (
            "社区已约谈物业公司，要求规范小区停车管理，对外来车辆实行登记，并在消防通道施划了禁停标线。",
            "经协调，物业已在小区内增设车位{many}个，并对长期占用的车辆进行了劝离，后续由社区和物业共同监督。",
        ),
        place="estate",
        area="urban",
    ),
    Template(
        "城乡建设/城市建设和市政管理/自来水供应",
        K.HELP,
        3,
        ("{community}突然停水", "{where}水压低高层用不上水", "{estate}自来水发黄浑浊"),
        (
            "{where}从今天早上开始停水，事先没有任何通知，家里有老人和小孩，做饭洗漱都成问题，不知道什么时候能恢复。",
            "{estate}高层住户每天早晚用水高峰水压很低，{floor}楼以上基本没水，已经持续{days}天了。",
            "最近{days}天家里的自来水打开是黄色的，放一会儿才变清，担心水质有问题。",
        ),
        (
            "经查为附近供水管道爆裂抢修导致临时停水，供水集团已完成抢修并恢复供水，对未提前告知向您致歉。",
            "经排查为小区二次供水加压设备故障，已维修完毕，高层水压恢复正常。",
            "供水集团已到现场检测，水质符合标准，发黄是管道冲洗后的铁锈沉积所致，已对小区管网进行了冲洗。",
        ),
        place="estate",
        urgent=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/燃气供应",
        K.HAZARD,
        1.2,
        ("{community}楼道内有燃气泄漏气味|{where}楼道闻到燃气味", "{where}家中燃气表附近有异味"),
        (
            "{where}楼道里有很浓的燃气味，已经持续一个多小时，担心有泄漏，居民不敢开灯和使用明火。",
            "家中燃气表附近有明显异味，已关闭总阀，请燃气公司尽快派人检查。",
        ),
        (
            "燃气公司抢修人员接报后赶到现场，查明为楼道立管接口松动，已紧固并更换密封件，经检测无泄漏。",
            "抢修人员到场检测，系用户灶具连接软管老化，已为用户更换，并进行了安全用气宣传。",
        ),
        danger=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/电力供应",
        K.HELP,
        2.5,
        ("{community}大面积停电", "{where}频繁停电"),
        (
            "{where}从{night}开始停电，到现在还没恢复，冰箱里的东西都快坏了，也没有看到停电通知。",
            "{estate}最近一周已经停了{few}次电，每次一两个小时，家里电器都受到影响。",
        ),
        (
            "供电公司查明为小区配电变压器负荷过大跳闸，已更换设备并恢复供电，后续将对小区线路进行增容改造。",
            "经查为线路检修计划停电，供电公司已在小区张贴停电通知，停电期间给您带来不便深表歉意。",
        ),
        place="estate",
        urgent=True,
    ),
    Template(
        "城乡建设/城市建设和市政管理/冬季采暖",
        K.COMPLAINT,
        2,
        ("{community}暖气不热", "{where}供暖温度不达标"),
        (
            "今年供暖以来{where}家里暖气一直不热，室温只有十三四度，老人孩子都冻感冒了。",
            "{estate}顶楼住户暖气片上热下凉，多次找物业也没有解决，希望热力公司派人检测。",
        ),
        (
            "热力公司已上门检测，室温未达标系管道内空气未排净，已进行排气处理，室温已达到十八度以上。",
            "经检查为单元供热管道阀门故障，已更换阀门，供暖已恢复正常。",
        ),
        area="urban",
        months=(11, 12, 1, 2, 3),
    ),
    Template(
        "城乡建设/城市建设和市政管理/公共汽车",
        K.SUGGESTION,
        1.2,
        ("建议增加{bus}路公交车班次", "{bus}路公交车不按站停靠"),
        (
            "{bus}路公交车早高峰间隔太长，经常半个小时才来一班，{road}站等车的人很多，上班经常迟到。",
            "{bus}路公交车在{road}站经常不进站停靠，乘客招手也不停，希望加强管理。",
        ),
        (
            "公交公司已根据客流情况在早晚高峰各增加{few}个班次，并优化了发车间隔。",
            "公交公司已对相关驾驶员进行批评教育，并加强了该线路的服务监督。",
        ),
        place="road",
        area="urban",
    ),
    Template(
        "城乡建设/城乡规划/违章建筑",
        K.REPORT,
        3,
        ("{where}有人私搭乱建|{community}楼顶违建", "{estate}一楼住户侵占绿地搭建"),
        (
            "{where}顶楼住户在楼顶平台上用彩钢板搭建了房子，面积有几十平方米，存在安全隐患，还导致楼下漏水。",
            "{estate}一楼住户把院墙外的公共绿地围起来，正在砌墙搭建房屋，施工已经好几天了。",
        ),
        (
            "执法人员已到现场调查，下达了责令限期拆除通知书，当事人已自行拆除违建部分。",
            "经查该建筑未取得规划许可，属违法建设，已依法立案，将按程序组织拆除。",
        ),
        place="estate",
        patrol=True,
        complex_share=0.3,
    ),
    Template(
        "城乡建设/住房保障与房地产/物业服务",
        K.COMPLAINT,
        3.5,
        ("{where}楼上漏水物业不处理", "{community}顶楼屋面渗水|{where}屋顶漏水多月未修"),
        (
            "{where}家里卫生间天花板一直往下渗水，墙面都发霉了，楼上住户不配合检查，找物业也一直拖着。",
            "顶楼房屋每逢下雨就漏水，屋面防水层已经老化，物业说要动用维修资金，{months}个月了还没有结果。",
        ),
        (
            "社区已组织物业与楼上住户协调，经检查为楼上卫生间防水层破损，楼上住户已同意维修，目前已停止渗漏。",
            "物业已启动维修资金使用程序，已完成屋面防水层修复，经雨后复查不再渗漏。",
        ),
    ),
    Template(
        "城乡建设/住房保障与房地产/物业服务",
        K.COMPLAINT,
        2,
        ("{where}电梯经常故障|{community}电梯困人", "{where}电梯停运多日"),
        (
            "{estate}{building}栋电梯这个月已经坏了{few}次，有一次还把人困在里面半个小时，物业只是简单修一下就继续用。",
            "{where}电梯停运{days}天了，楼里有好几位行动不便的老人，上下楼非常困难。",
        ),
        (
            "已联系电梯维保单位全面检修，更换了老化部件，经特种设备检验机构检测合格后恢复运行。",
            "物业已完成电梯维修，并承诺每月按时维保，社区将督促物业公开维保记录。",
        ),
        danger=True,
        urgent=True,
        area="urban",
    ),
    Template(
        "城乡建设/住房保障与房地产/物业服务",
        K.COMPLAINT,
        1.5,
        ("{estate}物业费上涨不合理", "{community}物业服务差还乱收费"),
        (
            "{estate}物业没有召开业主大会就通知物业费每平方米上涨{price}元，服务质量却越来越差，楼道都没人打扫。",
            "物业在收取物业费时强制捆绑收取{fee_kind}，不交就不给开通门禁卡。",
        ),
        (
            "经调查物业调价未履行法定程序，已责令物业暂停执行新收费标准，由社区组织业主协商。",
            "已约谈物业公司，要求停止捆绑收费行为，并向业主公示收费项目和标准。",
        ),
        place="estate",
        area="urban",
    ),
    Template(
        "城乡建设/住房保障与房地产/房产证登记、办理",
        K.HELP,
        1.2,
        ("{estate}交房多年办不了房产证", "咨询{estate}不动产权证办理进度"),
        (
            "{estate}交房已经{years}年了，开发商一直以各种理由不给办理房产证，孩子上学和落户都受影响。",
            "购买的{estate}商品房一直办不下不动产权证书，开发商说是土地手续问题，请相关部门给个说法。",
        ),
        (
            "经核实该项目因开发企业欠缴税费导致无法办理，住建部门已约谈开发企业督促其限期补缴，目前已有部分业主完成办理。",
            "不动产登记中心已开辟绿色通道，该小区首批业主的不动产权证已于近期办结。",
        ),
        place="estate",
        complex_share=0.4,
        area="urban",
    ),
    Template(
        "城乡建设/安全生产/安全隐患",
        K.HAZARD,
        1,
        ("{where}施工工地围挡倒塌", "{road}工地吊装作业无警戒"),
        (
            "{road}一处工地的围挡被风吹得歪斜，有一段已经倒在人行道上，附近是学生上学的必经之路。",
            "{where}的工地吊装作业没有设置警戒区域，重物从人行道上方经过。",
        ),
        (
            "住建部门已责令施工单位停工整改，重新加固围挡并设置警戒区域，整改完毕后方可复工。",
            "已到现场检查，施工单位已完成整改，安全监督机构将加强日常巡查。",
        ),
        place="road",
        patrol=True,
        danger=True,
    ),
    # 环境保护 ------------------------------------------------------------------------------
    Template(
        "环境保护/环境污染/噪音污染",
        K.COMPLAINT,
        2.5,
        ("{road}工地夜间施工噪音扰民", "{where}一带夜间施工影响休息"),
        (
            "{road}附近的工地每天{night}还在施工，打桩机和渣土车的声音很大，附近居民根本没法睡觉。",
            "{where}旁边的工地连续{days}天夜间施工，现场没有看到夜间施工许可公示。",
        ),
        (
            "经查该工地未办理夜间施工许可，执法人员已责令其立即停止夜间作业，并依法立案查处。",
            "经核实该工地因混凝土连续浇筑办理了夜间施工许可，已要求施工单位采取降噪措施并提前公示。",
        ),
        place="road",
        area="urban",
    ),
    Template(
        "环境保护/环境污染/噪音污染",
        K.COMPLAINT,
        2.5,
        ("{where}商铺音响噪音扰民", "{community}广场舞音响声音太大", "{brand}KTV深夜噪音扰民"),
        (
            "{road}上的{brand}商店每天用大功率音响在门口循环播放促销广告，声音非常大，附近住户不堪其扰。",
            "{community}广场每天晚上跳广场舞的音响开得太大，一直到晚上十点多，家里孩子没法写作业。",
            "{where}楼下的{brand}KTV每天营业到凌晨，唱歌声和客人喧哗声很吵。",
        ),
        (
            "已到现场对商户进行了劝导，商户已将音响收回并承诺不再外放。",
            "社区已与广场舞队伍负责人沟通，约定控制音量和活动时间，晚上九点前结束。",
            "执法人员已对该KTV进行检查，责令其做好隔音降噪并控制营业音量，经夜间复查已达标。",
        ),
        place="shop",
    ),
    Template(
        "环境保护/环境污染/噪音污染",
        K.COMPLAINT,
        1.5,
        ("{where}装修噪音扰民", "{estate}有住户违规时间装修"),
        (
            "{where}楼上住户装修，中午和晚上也在电钻敲墙，周末一大早就开始施工，严重影响休息。",
            "{estate}{building}栋有住户装修不遵守作业时间，晚上八点以后还在切割瓷砖。",
        ),
        (
            "社区和物业已上门告知装修户装修作业时间规定，装修户已承诺按规定时间施工。",
            "物业已暂停该户装修作业一天并进行了约谈，此后未再出现违规时间施工。",
        ),
        area="urban",
    ),
    Template(
        "环境保护/环境污染/大气污染",
        K.COMPLAINT,
        2.5,
        ("{where}餐饮店油烟扰民", "{brand}烧烤店油烟直排"),
        (
            "{where}楼下的{brand}餐馆没有安装油烟净化设备，油烟直接排到居民楼，窗户都不敢开。",
            "{road}上的{brand}烧烤店每天晚上在店外露天烧烤，浓烟和油烟飘进附近住户家里。",
        ),
        (
            "执法人员已到现场检查，责令该餐饮店安装油烟净化设施并定期清洗，目前已安装完毕并正常使用。",
            "已依法取缔露天烧烤行为，并督促商户入室经营、规范排烟。",
        ),
        place="shop",
        area="urban",
    ),
    Template(
        "环境保护/环境污染/大气污染",
        K.REPORT,
        4,
        ("{community}有人焚烧秸秆", "{where}露天焚烧垃圾"),
        (
            "{community}附近田里有人焚烧秸秆，浓烟很大，附近公路上的车辆视线都受影响。",
            "{where}有人经常在空地上焚烧垃圾和废旧电线，气味刺鼻。",
        ),
        (
            "镇村干部已到现场扑灭火源，对当事人进行了批评教育，并加强了秸秆禁烧巡查。",
            "已责令当事人停止焚烧并清理现场，村委会将把露天焚烧纳入网格日常巡查。",
        ),
        place="village",
        patrol=True,
        area="rural",
        months=(5, 6, 10, 11),
    ),
    Template(
        "环境保护/环境污染/水污染",
        K.REPORT,
        1.5,
        ("{road}附近河道发黑发臭", "{where}有作坊向河里排污"),
        (
            "{road}旁边的河道最近水面发黑，还漂着死鱼，天热时臭味很重，怀疑有人偷排污水。",
            "{where}一带有家小作坊晚上把污水直接排进河里，河水颜色都变了。",
        ),
        (
            "生态环境部门已对该河段进行采样监测，查明为沿河一处雨污混接口排放生活污水，已完成封堵改造。",
            "执法人员已对该作坊进行检查，责令其停止排污并依法予以处罚。",
        ),
        place="road",
        patrol=True,
    ),
    Template(
        "环境保护/环境污染/大气污染",
        K.COMPLAINT,
        1,
        ("{company}夜间排放刺鼻气味",),
        ("{street}的{company}每天晚上排放刺鼻气体，附近居民闻到后头晕恶心，怀疑夜间偷排。",),
        (
            "生态环境部门已对该企业开展夜间突击检查，发现其废气处理设施未正常运行，已责令整改并立案处罚。",
        ),
        place="company",
    ),
    # 劳动和社会保障 -------------------------------------------------------------------------
    Template(
        "劳动和社会保障/工资福利/工资发放",
        K.COMPLAINT,
        3,
        ("{company}拖欠员工工资", "反映{company}拖欠{months}个月工资"),
        (
            "在{company}工作，公司已经拖欠{many}名员工{months}个月的工资，共计约{amount}元，老板一直说资金紧张，"
            "现在人都联系不上了。",
            "从{company}离职已经{months}个月，剩下的工资{amount}元一直没有结清，多次催要无果。",
        ),
        (
            "劳动保障监察大队已约谈企业负责人，企业已将拖欠工资全部支付到位。",
            "经调查企业确实存在拖欠工资行为，已下达限期改正指令书，企业已制定分期支付计划，首期工资已发放。",
        ),
        place="company",
        urgent=True,
    ),
    Template(
        "劳动和社会保障/劳动关系/农民工权益",
        K.COMPLAINT,
        2,
        ("{road}工地拖欠农民工工资", "{many}名农民工讨要工资"),
        (
            "在{road}一处工地干活，包工头拖欠{many}名工人工资约{amount}元，马上就要过年了，工人们都等着钱回家。",
            "{where}的工程项目已经完工，总包单位说工程款没结算，拖欠班组工人工资不给。",
        ),
        (
            "人社部门已会同住建部门约谈总包单位，启用工资保证金先行垫付，工人工资已全部发放。",
            "经核实该项目已通过农民工工资专户支付，剩余争议已引导工人通过劳动仲裁解决。",
        ),
        place="road",
        urgent=True,
        months=(12, 1, 2),
    ),
    Template(
        "劳动和社会保障/劳动关系/劳动合同纠纷",
        K.COMPLAINT,
        1.5,
        ("{company}不签劳动合同", "被{company}无故辞退"),
        (
            "在{company}上班{months}个月了，公司一直不签劳动合同，也不缴纳社保。",
            "{company}以经营调整为由辞退员工，不支付经济补偿金。",
        ),
        (
            "已约谈企业补签劳动合同、补缴社会保险，企业已整改。",
            "经调解，企业同意按规定支付经济补偿，双方已达成一致。",
        ),
        place="company",
    ),
    Template(
        "劳动和社会保障/城镇居民社会保险/城镇居民医疗保险",
        K.CONSULTATION,
        4,
        ("咨询城乡居民医保缴费问题", "异地就医医保报销咨询", "医保报销比例咨询"),
        (
            "想了解今年城乡居民医疗保险的缴费时间和缴费标准，家里老人在外地，怎么在网上代缴。",
            "父亲在外地住院，想咨询异地就医备案怎么办理，出院后回来报销需要准备什么材料。",
            "在{hospital}住院花了一万多元，医保报销比例比预想的低很多，想了解具体的报销政策。",
        ),
        (
            "城乡居民医保集中缴费期为每年九月至十二月，可通过手机应用或银行网点缴纳，具体标准已在医保局网站公布。",
            "异地就医备案可通过国家医保服务平台手机应用办理，备案后在就医地联网医院直接结算，无需回参保地报销。",
            "经医保部门核实，您的住院费用中有部分属于自费项目，报销已按政策执行，工作人员已电话向您解释费用构成。",
        ),
        place="none",
    ),
    Template(
        "劳动和社会保障/城镇职工社会保险/职工养老保险",
        K.CONSULTATION,
        1.5,
        ("咨询养老保险关系转移", "单位未足额缴纳养老保险"),
        (
            "从外地回到{district}工作，之前在外地缴纳的养老保险怎么转移过来。",
            "所在单位一直按最低基数缴纳养老保险，与实际工资相差很大。",
        ),
        (
            "养老保险关系转移可在新参保地经办机构或网上申请，办理时限一般为四十五个工作日。",
            "社保稽核部门已对该单位进行稽核，责令其按实际工资补缴差额。",
        ),
        place="none",
    ),
    Template(
        "劳动和社会保障/退休政策及待遇/退休金发放",
        K.CONSULTATION,
        1,
        ("养老金调整差额未到账", "咨询退休手续办理"),
        (
            "今年养老金调整的通知早就出来了，但是我的养老金还没有补发调整的差额。",
            "明年就到退休年龄了，想咨询需要准备哪些材料，在哪里办理退休手续。",
        ),
        (
            "养老金调整差额已于本月统一补发，请注意查收。",
            "退休手续可在区人社部门服务大厅或网上办理，所需材料已电话告知。",
        ),
        place="none",
    ),
    Template(
        "劳动和社会保障/就业培训/就业和再就业",
        K.CONSULTATION,
        1,
        ("咨询灵活就业社保补贴申领", "失业人员职业培训咨询"),
        (
            "失业后以灵活就业身份缴纳社保，听说可以申请社保补贴，想了解申请条件和办理地点。",
            "想参加免费的职业技能培训，不知道{district}有哪些培训项目，怎么报名。",
        ),
        (
            "灵活就业社保补贴的申请条件和材料已电话告知，可在街道便民服务中心提交申请。",
            "人社部门已将近期开班的培训项目和报名方式发送给您，可就近报名参加。",
        ),
        place="none",
    ),
    # 教育文体 ------------------------------------------------------------------------------
    Template(
        "教育文体/教育体制/教育资源配置",
        K.CONSULTATION,
        3.5,
        (
            "{estate}孩子入学学位问题|{community}新建小区没有划入学区",
            "咨询{school}招生学区划分",
            "咨询随迁子女入学需要的材料",
        ),
        (
            "{estate}交房后一直没有明确对应的学区，今年孩子要上一年级了，不知道该去哪所学校报名。",
            "家住{community}，离{school}只有几百米，但今年的招生范围把我们小区划出去了，要去三公里外的学校上学。",
            "随迁子女在{district}上小学需要准备哪些材料，居住证办理时间不够怎么办。",
        ),
        (
            "教育局已公布今年义务教育招生片区，您所在小区对应{school}，报名时间和材料要求已电话告知。",
            "今年学区调整是根据学位供给情况统筹安排的，教育局已向您解释政策依据，并告知可申请统筹安排学位。",
            "随迁子女入学需提供居住证、监护人就业或社保证明等材料，居住证时限不足的可凭居住登记先行报名，已电话告知。",
        ),
        place="school",
        months=(3, 4, 5, 6, 7, 8),
    ),
    Template(
        "教育文体/教育收费/乱收费",
        K.COMPLAINT,
        1,
        ("{school}违规收取资料费", "{school}要求在指定商家购买校服"),
        (
            "{school}班主任让每个学生交{price}0元的资料费，没有开具收据。",
            "{school}要求学生必须在指定商家购买校服，价格比市场贵很多。",
        ),
        (
            "教育局已到校调查，责令学校退还违规收取的费用，并对相关责任人进行了批评教育。",
            "经调查学校未强制指定商家，已要求学校向家长说明校服自愿购买政策。",
        ),
        place="school",
    ),
    Template(
        "教育文体/教育行政管理/校外机构管理",
        K.COMPLAINT,
        1.5,
        ("{brand}培训机构停课不退费|校外培训机构突然关门", "{brand}培训机构搬迁剩余课时不退费"),
        (
            "在{road}的{brand}教育培训机构给孩子报了课，交了{fee}元，现在机构突然停课，门店关了，老师也联系不上。",
            "{brand}培训机构以续费优惠为由让家长一次交了两年的费用，现在说要搬迁，剩余课时不给退。",
        ),
        (
            "教育局已会同市场监管部门对该机构进行调查，督促其制定退费方案，已有家长收到退款。",
            "该机构已被列入重点监管名单，已引导家长依法维权，并协调机构按剩余课时退费。",
        ),
        place="shop",
        area="urban",
    ),
    Template(
        "教育文体/教育行政管理/校园安全",
        K.SUGGESTION,
        1,
        ("{school}门口上下学交通拥堵",),
        (
            "{school}门口放学时家长车辆乱停，道路拥堵严重，孩子过马路很危险，建议设置护学岗和临时停车区。",
        ),
        ("交警和学校已在上下学时段设置护学岗，增设了临时停车区域和人行横道。",),
        place="school",
    ),
    Template(
        "教育文体/体育/体育事业",
        K.REPORT,
        1,
        ("{community}健身器材损坏",),
        ("{community}广场上的健身器材有好几件已经损坏，螺丝松动，孩子在上面玩很危险。",),
        ("社区已联系体育部门对损坏器材进行了维修更换。",),
        place="estate",
        patrol=True,
    ),
    # 卫生计生 ------------------------------------------------------------------------------
    Template(
        "卫生计生/医政监管/医疗技术和服务",
        K.COMPLAINT,
        2,
        ("{hospital}挂号难排队时间长", "{hospital}医生服务态度差"),
        (
            "带孩子到{hospital}看病，从早上七点排到中午才看上，挂号窗口只开了两个。",
            "在{hospital}就诊时医生态度生硬，问了几个问题就不耐烦。",
        ),
        (
            "医院已增开挂号窗口并推广线上预约，高峰时段增派导诊人员。",
            "医院已对涉事医生进行了批评教育，并当面向您致歉。",
        ),
        place="none",
    ),
    Template(
        "卫生计生/食品药品监管/食品安全",
        K.REPORT,
        2,
        ("{brand}超市销售过期食品", "{where}餐馆卫生条件差"),
        (
            "在{road}的{brand}超市买的酸奶已经过期{days}天，还摆在货架上销售。",
            "{road}上的{brand}餐馆后厨卫生很差，吃完后家里好几个人拉肚子。",
        ),
        (
            "市场监管部门已对该超市进行检查，下架过期食品，并依法立案查处。",
            "执法人员已对该餐馆进行现场检查，责令其停业整改，整改合格后方可营业。",
        ),
        place="shop",
    ),
    Template(
        "卫生计生/公共卫生/疾病预防控制",
        K.CONSULTATION,
        1,
        ("咨询儿童疫苗接种", "{community}蚊虫多请求消杀"),
        (
            "孩子的疫苗本上有一针漏打了，想咨询现在还能不能补种，到哪里接种。",
            "{community}绿化带和积水处蚊虫很多，晚上在外面待一会儿就被咬很多包，希望安排消杀。",
        ),
        (
            "疾控中心已电话告知补种程序，可携带接种证到{hospital}预防接种门诊补种。",
            "社区已联系专业机构对小区进行了消杀，并清理了积水点。",
        ),
        place="none",
        months=(5, 6, 7, 8, 9),
    ),
    Template(
        "卫生计生/医政监管/非法行医",
        K.REPORT,
        0.5,
        ("{where}有人无证行医",),
        ("{where}有一家没有挂牌的诊所，给人输液打针，没有看到任何执业证件。",),
        ("卫生监督部门已到现场检查，查实为无证行医，已依法取缔并没收药品器械。",),
        place="shop",
    ),
    # 商贸旅游 ------------------------------------------------------------------------------
    Template(
        "商贸旅游/市场监管/其他",
        K.COMPLAINT,
        1.5,
        ("{brand}健身房关门预付卡无法退费", "{brand}理发店办卡后关门"),
        (
            "在{road}的{brand}健身房办了年卡，交了{fee}元，现在店突然关门了，工作人员都联系不上。",
            "在{brand}理发店充值了{fee}元，没用几次店就关门了，门口贴着转让。",
        ),
        (
            "市场监管部门已立案调查，已联系到经营者并督促其制定退款方案。",
            "经调解，经营者同意退还剩余金额，已有消费者收到退款。",
        ),
        place="shop",
    ),
    Template(
        "商贸旅游/市场监管/物价监督",
        K.COMPLAINT,
        1,
        ("{where}停车场乱收费", "{brand}超市标价与结算价不一致"),
        (
            "{where}附近的停车场收费标准没有公示，停了两个小时收了{price}0元。",
            "在{brand}超市购物，货架上标的是特价，结账时却按原价收费。",
        ),
        (
            "市场监管部门已责令停车场公示收费标准并按核定标准收费，多收费用已退还。",
            "执法人员已对该超市进行检查，责令其规范明码标价，并退还多收款项。",
        ),
        place="shop",
    ),
    Template(
        "商贸旅游/市场监管/商品质量",
        K.COMPLAINT,
        1,
        ("{brand}家电店售出的热水器有质量问题",),
        ("在{brand}家电店买的热水器用了不到一个月就漏水，商家一直推说要厂家处理。",),
        ("经市场监管部门调解，商家已为消费者更换新的热水器。",),
        place="shop",
    ),
    # 交通运输 ------------------------------------------------------------------------------
    Template(
        "交通运输/出租车管理/网约车问题",
        K.COMPLAINT,
        1.5,
        ("网约车司机绕路多收费", "出租车拒载"),
        (
            "在{road}乘坐网约车，司机明显绕路，平时二十元的路程收了四十多元。",
            "在{road}打出租车，司机问了目的地后说太近不去，连续两辆车拒载。",
        ),
        (
            "交通运输部门已核查行车轨迹，责令平台退还多收费用，并对驾驶员进行了处理。",
            "已根据车牌号查实驾驶员拒载行为，依法予以处罚并纳入服务质量考核。",
        ),
        place="road",
        area="urban",
    ),
    Template(
        "交通运输/客货运输/旅客运输",
        K.SUGGESTION,
        2.5,
        ("{community}到镇上的班车太少",),
        ("{community}每天只有早晚两班车到镇上，老人看病、学生上学都很不方便，建议增加班次。",),
        ("交通运输部门已调整该线路运营计划，每天增加两个往返班次。",),
        place="village",
        area="rural",
    ),
    Template(
        "交通运输/建设管理/设施维护",
        K.REPORT,
        3.5,
        ("{community}通村公路破损严重",),
        ("{community}通往镇上的公路有好几段路面塌陷，下雨后全是泥坑，农用车和校车通行很危险。",),
        ("交通运输部门已安排公路养护站对破损路段进行修补，整段路面已列入农村公路提质改造计划。",),
        place="village",
        patrol=True,
        area="rural",
    ),
    Template(
        "交通运输/邮政管理/快递市场管理",
        K.COMPLAINT,
        1,
        ("快递丢件网点推诿", "快递员不送货上门"),
        (
            "在{street}快递网点寄的包裹显示已签收，但收件人没有收到，网点一直推诿。",
            "{estate}的快递员从来不送货上门，也不打电话，直接把快递放在驿站还收取费用。",
        ),
        (
            "邮政管理部门已约谈快递企业，企业已按规定对丢失物品进行赔偿。",
            "已责令快递企业规范投递服务，不得擅自将快件投放驿站收费。",
        ),
        place="none",
    ),
    # 民政 ----------------------------------------------------------------------------------
    Template(
        "民政/社会救助/城镇低保",
        K.HELP,
        1.2,
        ("咨询低保申请条件", "家庭困难申请救助"),
        (
            "家里只有我一个人有收入，爱人长期生病，想咨询能不能申请低保，需要准备什么材料。",
            "家住{community}，本人残疾无法工作，生活非常困难，希望政府给予救助。",
        ),
        (
            "低保申请条件和所需材料已电话告知，可到{street}便民服务中心提交申请。",
            "街道已上门核实家庭情况，已为您办理临时救助，并指导提交低保申请。",
        ),
        place="none",
    ),
    Template(
        "民政/福利慈善/福利事业",
        K.HELP,
        1.2,
        ("咨询高龄津贴申领", "希望社区提供居家养老服务"),
        (
            "家里老人今年满八十周岁，想咨询高龄津贴怎么申请，每月能领多少。",
            "家中老人独居，子女在外地工作，希望社区能提供助餐、上门探访等居家养老服务。",
        ),
        (
            "高龄津贴可由本人或家属到社区申请，标准和材料已电话告知。",
            "社区已将老人纳入独居老人关爱名单，由社工定期上门探访，并对接了社区助餐点。",
        ),
        place="none",
    ),
    Template(
        "民政/基层选举和社区建设/社区建设",
        K.SUGGESTION,
        0.6,
        ("建议{community}增设老年活动室",),
        ("{community}老年人很多，但没有可以下棋聊天的地方，建议利用闲置用房开设老年活动室。",),
        ("社区已将闲置用房改造为老年活动室，配置了桌椅和棋牌，已对居民开放。",),
        place="none",
    ),
    # 政法 ----------------------------------------------------------------------------------
    Template(
        "政法/社会治安/消防安全",
        K.HAZARD,
        2,
        ("{estate}消防通道被占用", "{where}楼道内电动车充电"),
        (
            "{estate}消防通道长期被私家车和杂物占用，一旦发生火灾消防车根本进不来。",
            "{where}楼道里停满了电动车，有住户从家里拉电线在楼道充电，存在很大的火灾隐患。",
        ),
        (
            "消防部门和社区已联合开展检查，清理了通道内车辆和杂物，并督促物业设置了集中充电设施。",
            "已对楼道违规充电行为进行劝导和清理，物业已在小区增设电动车充电桩。",
        ),
        place="estate",
        patrol=True,
        danger=True,
        urgent=True,
    ),
    Template(
        "政法/仲裁与调解/司法调解",
        K.DISPUTE,
        2,
        ("{where}邻里纠纷请求调解", "与邻居因{dispute}发生纠纷"),
        (
            "与{where}的邻居因为{dispute}多次发生争吵，协商不成，希望社区出面调解。",
            "邻居因为{dispute}和我家闹矛盾，最近还发生了推搡，担心矛盾继续激化。",
        ),
        (
            "人民调解员已组织双方调解，双方达成调解协议，承诺互相谅解、和睦相处。",
            "社区调解委员会已上门了解情况，组织双方面对面沟通，矛盾已化解。",
        ),
    ),
    Template(
        "政法/户籍证件/户籍管理",
        K.CONSULTATION,
        1,
        ("咨询新生儿落户办理", "咨询投靠落户条件"),
        (
            "孩子刚出生，想咨询新生儿落户需要准备哪些材料，可以在网上办理吗。",
            "父母想投靠子女把户口迁到{district}，想咨询需要满足什么条件。",
        ),
        (
            "新生儿落户可携带出生医学证明和父母户口簿到{street}派出所办理，也可通过网上平台申请。",
            "投靠落户的条件和材料已电话告知，可到辖区派出所户籍窗口办理。",
        ),
        place="none",
    ),
    Template(
        "政法/交通管理/交通安全管理",
        K.COMPLAINT,
        1.5,
        ("{road}车辆违停严重", "{road}与{road2}路口信号灯故障"),
        (
            "{road}两侧每天都停满车辆，双向车道只剩一条能通行，早晚高峰堵得水泄不通。",
            "{road}与{road2}交叉口的信号灯已经坏了{days}天，车辆和行人抢行，非常危险。",
        ),
        (
            "交警部门已加强该路段违停巡查和抄告，并施划了禁停标线。",
            "交警部门已联系维护单位修复信号灯，目前路口通行秩序恢复正常。",
        ),
        place="road",
        patrol=True,
        urgent=True,
    ),
    Template(
        "政法/社会治安/治安案件",
        K.RISK_CLUE,
        0.6,
        ("{where}出租屋疑似群租", "{community}有人聚集赌博"),
        (
            "{where}一套房子里住了十几个人，进出人员复杂，担心存在治安和消防隐患。",
            "{community}附近一处出租屋每天晚上有很多人聚集，疑似有人赌博。",
        ),
        (
            "公安机关和社区已上门核查，已督促房东整改群租问题，并登记了实际居住人员信息。",
            "派出所已对线索进行核查处置，将持续加强该区域巡逻。",
        ),
    ),
    # 农村农业 ------------------------------------------------------------------------------
    Template(
        "农村农业/村务管理/村务公开",
        K.COMPLAINT,
        3,
        ("{community}村务不公开", "{community}集体收入去向不明"),
        (
            "{community}已经很长时间没有公开村务和财务了，村民不知道集体土地租金用到哪里去了。",
            "{community}修路的资金使用情况一直没有公示，村民多次要求查看账目都被拒绝。",
        ),
        (
            "镇里已督促村委会按规定公开村务和财务，并组织了村民代表会议说明资金使用情况。",
            "镇农经站已对该村账目进行审计，审计结果已在村务公开栏公示。",
        ),
        place="village",
        area="rural",
    ),
    Template(
        "农村农业/惠农补贴/粮食直补",
        K.CONSULTATION,
        3,
        ("咨询耕地地力保护补贴发放", "惠农补贴没有到账"),
        (
            "想咨询今年的耕地地力保护补贴什么时候发放，按多少亩计算。",
            "{community}其他农户的补贴都到账了，我家的还没有收到，不知道是什么原因。",
        ),
        (
            "补贴已按确权面积核定，将于本月统一发放到惠农补贴账户，工作人员已电话告知。",
            "经核实您的补贴因银行账户信息有误未能发放，已更正信息并补发。",
        ),
        place="village",
        area="rural",
    ),
    Template(
        "农村农业/土地承包经营/宅基地纠纷",
        K.DISPUTE,
        3,
        ("{community}宅基地界线纠纷",),
        (
            "与{community}邻居因为宅基地界线发生争执，邻居建房占了我家的地，村里调解了几次都没有结果。",
        ),
        ("镇司法所和村委会已组织双方现场测量确认界线，双方签订了调解协议。",),
        place="village",
        area="rural",
        complex_share=0.3,
    ),
    Template(
        "农村农业/水利水电/防汛抗旱",
        K.HELP,
        2.5,
        ("{community}农田灌溉水渠堵塞", "{community}山塘水位过高"),
        (
            "{community}的灌溉水渠被淤泥和垃圾堵塞，水放不下来，秧苗都快干死了。",
            "连续下雨后{community}的山塘水位很高，坝体有渗水，下游几户人家很担心。",
        ),
        (
            "镇里已组织人员对水渠进行了清淤，灌溉已恢复正常。",
            "水利部门已到现场查看，已开闸降低水位，并对坝体渗水点进行了处理，安排专人值守。",
        ),
        place="village",
        area="rural",
        urgent=True,
        months=(5, 6, 7, 8),
    ),
    Template(
        "国土资源/土地资源管理/耕地保护",
        K.REPORT,
        1.5,
        ("{community}有人占用耕地建房",),
        ("{community}有人在基本农田上挖地基准备建房，已经拉来了砖和水泥。",),
        ("自然资源部门已到现场制止，责令当事人恢复耕地原状。",),
        place="village",
        patrol=True,
        area="rural",
    ),
    # 其他 ----------------------------------------------------------------------------------
    Template(
        "城乡建设/住房保障与房地产/住房公积金",
        K.CONSULTATION,
        1.5,
        ("咨询住房公积金提取条件", "咨询公积金贷款额度"),
        (
            "想提取住房公积金用于支付房租，不知道需要满足什么条件、准备哪些材料。",
            "准备在{district}买房，想咨询公积金贷款的额度怎么计算，夫妻双方都缴存能贷多少。",
        ),
        (
            "租房提取公积金的条件和所需材料已电话告知，可通过公积金中心网上大厅申请。",
            "公积金贷款额度按缴存余额和缴存年限计算，具体测算方法已电话告知。",
        ),
        place="none",
    ),
    Template(
        "城乡建设/住房保障与房地产/保障性住房",
        K.HELP,
        1.2,
        ("申请公共租赁住房", "公租房轮候时间太长"),
        (
            "家里三口人挤在亲戚家，收入不高，想申请公共租赁住房，不知道符合不符合条件。",
            "公租房申请已经审核通过{years}年了，一直在轮候，想了解现在排到第几位。",
        ),
        (
            "公租房申请条件和办理流程已电话告知，可到{street}便民服务中心提交申请。",
            "住房保障部门已查询您的轮候情况并电话告知，近期有房源时将优先通知您选房。",
        ),
        place="none",
        area="urban",
    ),
    Template(
        "城乡建设/城市建设和市政管理/居民服务设施",
        K.SUGGESTION,
        1.5,
        ("建议{community}增设电动车充电桩", "建议{community}增设便民信息栏和休息座椅"),
        (
            "{community}电动车很多但没有充电桩，不少人从楼上拉电线充电，很不安全，建议增设集中充电设施。",
            "{community}老人很多，小区里没有可以坐下歇脚的地方，建议增设休息座椅和便民信息栏。",
        ),
        (
            "社区已协调在小区内增设了两处电动车集中充电点，已投入使用。",
            "社区已在小区主要通道增设休息座椅和便民信息栏。",
        ),
        place="estate",
    ),
    Template(
        "政法/交通管理/交通安全管理",
        K.SUGGESTION,
        1.2,
        ("建议{road}增设人行横道", "建议{road}与{road2}路口增设红绿灯"),
        (
            "{road}靠近{community}的路段很长一段没有人行横道，居民过马路只能横穿，建议增设。",
            "{road}与{road2}路口车流量越来越大，没有信号灯，早晚高峰经常剐蹭，建议增设红绿灯。",
        ),
        (
            "交警部门已现场勘查，已在该路段施划人行横道并设置警示标志。",
            "交警部门已将该路口纳入信号灯建设计划，建成前增派警力在高峰时段疏导。",
        ),
        place="road",
    ),
    Template(
        "劳动和社会保障/城镇居民社会保险/城乡居民养老保险",
        K.CONSULTATION,
        1,
        ("咨询城乡居民养老保险缴费档次", "咨询城乡居民养老金领取"),
        (
            "想给家里人缴纳城乡居民养老保险，不知道有哪些缴费档次，缴多少合适。",
            "母亲今年满六十周岁了，想咨询城乡居民养老金怎么申请领取。",
        ),
        (
            "城乡居民养老保险的缴费档次和政府补贴标准已电话告知，可通过手机应用缴费。",
            "年满六十周岁可持身份证和户口簿到社区申请领取，经办流程已电话告知。",
        ),
        place="none",
    ),
    Template(
        "民政/社会服务/婚姻登记",
        K.CONSULTATION,
        0.6,
        ("咨询婚姻登记预约办理",),
        ("想去办理结婚登记，不知道需要提前预约吗，双方户口不在一个地方能不能办。",),
        ("婚姻登记已实行跨区域通办，可通过网上平台预约，所需材料已电话告知。",),
        place="none",
    ),
    Template(
        "科技与信息产业/电信/通信保障",
        K.COMPLAINT,
        0.8,
        ("{community}手机信号差", "{estate}宽带经常断网"),
        (
            "{community}一带手机信号很差，在家里打电话经常断线，老人有急事都联系不上。",
            "{estate}的宽带每天晚上都断网，报修了几次，师傅来了也没有解决。",
        ),
        (
            "运营商已到现场测试，将在附近增设通信基站，建成前先对现有基站进行了优化。",
            "运营商已更换小区光纤分线设备，网络已恢复稳定。",
        ),
        place="estate",
    ),
    Template(
        "纪检监察/干部作风/官僚主义",
        K.COMPLAINT,
        0.5,
        ("到{street}便民服务中心办事多次跑腿",),
        (
            "到{street}便民服务中心办理证明，窗口工作人员每次只说缺一样材料，前后跑了{few}次还没办成。",
        ),
        ("街道已对相关工作人员进行了批评教育，并实行一次性告知制度，您的事项已办结。",),
        place="none",
    ),
    Template(
        "经济管理/金融财税/非法经济活动",
        K.RISK_CLUE,
        0.4,
        ("{where}有人以高息为诱饵吸收资金",),
        ("{where}一带有家投资公司每天组织老人听讲座、发礼品，承诺高额回报，让老人拿养老钱投资。",),
        ("相关部门已对该公司进行调查，已开展防范非法集资宣传，并提醒老年人谨慎投资。",),
        place="shop",
    ),
)

# Texts around the templates.
ASKS = (
    "希望相关部门尽快处理。",
    "请有关部门尽快核实处理。",
    "希望尽快解决，谢谢！",
    "已经反映过多次，希望这次能真正解决。",
    "请相关部门给予答复。",
)
CONSULTATION_ASKS = ("请相关部门给予解答。", "希望得到明确答复。", "请告知办理流程。")
REJECT_REASONS = (
    "诉求人反映的事项已进入诉讼程序，不属于热线受理范围，已告知其通过司法途径解决。",
    "诉求内容不明确，多次回拨无法联系诉求人核实。",
    "该事项属于个人之间的经济纠纷，已告知诉求人通过法律途径解决。",
    "反映的地点不在本市管辖范围内，已告知诉求人向属地政府反映。",
)
RETURN_REASONS = (
    "经核实，该事项不属于本单位职责范围，请重新派单。",
    "经现场核实，事发地点不在本单位管辖范围内，申请退回。",
    "该诉求需职能部门执法处理，本单位无执法权限，申请改派。",
    "工单地址信息有误，无法确认具体位置，请核实后重新派单。",
)
OVERRIDE_REASONS = (
    "根据诉求人描述的地点，先派属地社区核实。",
    "经与相关单位沟通，该事项由其负责办理。",
    "根据职责清单，改派至该单位办理。",
    "退单理由成立，改派至主管单位处理。",
)
VERIFY_NOTES = (
    "经现场核查，问题已解决。",
    "网格员到现场查看，已整改到位。",
    "现场情况属实已处理，群众认可。",
    "",
)
FAIL_NOTES = (
    "现场查看问题仍未解决，请继续办理。",
    "整改不到位，现场还有遗留问题。",
    "答复内容与现场情况不符，请重新核实处理。",
)
REWORK_REPLIES = (
    "已按核查意见再次整改，现场问题已全部处理完毕。",
    "经再次现场处理，问题已彻底解决，并安排专人跟踪。",
)
FOLLOW_UP_COMMENTS: dict[str, tuple[str, ...]] = {
    Satisfaction.SATISFIED: ("问题已经解决，感谢。", "处理很及时，满意。", "", ""),
    Satisfaction.BASICALLY: ("基本解决了，希望以后多巡查。", "处理速度有点慢。"),
    Satisfaction.UNSATISFIED: ("问题没有根本解决。", "答复太敷衍。"),
}
NOT_RESOLVED_COMMENTS = ("问题根本没有解决，现场还是老样子。", "只是打电话答复了，没有实际处理。")
SUPERVISE_NOTES = (
    "请承办单位高度重视，加快办理进度，按时答复群众。",
    "该诉求群众多次反映，请主要负责同志亲自督办。",
)
CHANNEL_INTROS: dict[str, str] = {
    Channel.HOTLINE: "来电人反映：",
    Channel.GRID_PATROL: "网格员巡查发现：",
    Channel.LETTERS_VISITS: "来信反映：",
    Channel.MASS_ORGANISATION: "{org}转来群众反映：",
}
MASS_ORGANISATIONS = (
    (UnitKind.TRADE_UNION, "市总工会"),
    (UnitKind.WOMENS_FEDERATION, "市妇联"),
    (UnitKind.YOUTH_LEAGUE, "团市委"),
)

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁"
    "魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅"
    "鑫斌宇浩凯健俊帆帅旭宁欣悦晨阳佳琪雪婷颖倩文博"
)
BRANDS = (
    "好运来", "鑫源", "福满楼", "味之源", "聚香园", "金鼎", "佳惠", "百信", "恒泰", "顺心",
    "乐享", "悦动", "康乐", "喜多多", "老街坊", "家和", "众诚", "新概念", "启航", "优学",
)  # fmt: skip
INDUSTRIES = ("建筑劳务", "物流", "电子科技", "服装", "食品", "机械制造", "商贸", "装饰工程")
ESTATE_SUFFIXES = ("花园", "家园", "新村", "雅苑", "公寓", "名邸", "佳苑", "小区")
ROAD_SUFFIXES = ("路", "大道", "街", "中路", "东路", "西路")
NIGHTS = ("晚上十点以后", "夜里十一点多", "凌晨一两点", "晚上九点到十二点")
DISPUTES = ("空调外机滴水", "楼道堆放杂物", "宠物狗吠叫", "装修损坏墙体", "占用公共走廊")
FEE_KINDS = ("车位管理费", "二次供水费", "垃圾清运费")

# --- The city, read once -----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A grid (or the deepest region) where cases happen, with the names around it."""

    region: Region
    grid: str
    community: str
    street: str
    district: str
    street_id: int
    district_id: int
    community_id: int
    rural: bool
    box: tuple[float, float, float, float]  # west, south, east, north
    roads: tuple[str, ...]


@dataclass
class DemoCity:
    places: list[Place]
    categories: dict[str, Category]
    templates: list[Template]
    city_centre: str = ""
    letters_unit: str = ""
    mass_organisations: list[str] = field(default_factory=list)
    committees: dict[int, Unit] = field(default_factory=dict)  # community id > committee
    street_offices: dict[int, Unit] = field(default_factory=dict)  # street id > government
    district_units: dict[int, Unit] = field(default_factory=dict)  # district id > 城管 or gov


def _box(region: Region) -> tuple[float, float, float, float]:
    boundary: Any = region.boundary or {}
    ring = boundary.get("coordinates", [[]])[0] if boundary.get("type") == "Polygon" else []
    if not ring:
        lat, lng = region.centre_lat or 31.2, region.centre_lng or 118.9
        return (lng - 0.002, lat - 0.002, lng + 0.002, lat + 0.002)
    lngs = [float(p[0]) for p in ring]
    lats = [float(p[1]) for p in ring]
    return (min(lngs), min(lats), max(lngs), max(lats))


def load_city() -> DemoCity:
    """The places, categories and units of the city in the database (the demo city)."""
    regions = list(Region.objects.order_by("code"))
    by_path = {r.path: r for r in regions}
    deepest = max((r.level for r in regions), default=0)
    leaves = [r for r in regions if r.level == deepest and r.level >= RegionLevel.STREET]
    places: list[Place] = []

    def at(region: Region, level: int) -> Region:
        paths = region.ancestor_paths
        return by_path[paths[level - 1]] if region.level > level else region

    road_stems: dict[int, list[str]] = {}
    for leaf in leaves:
        street = at(leaf, RegionLevel.STREET)
        community = at(leaf, RegionLevel.COMMUNITY) if deepest >= RegionLevel.COMMUNITY else street
        stems = road_stems.setdefault(street.pk, [])
        if community.name[:2] not in stems:
            stems.append(community.name[:2])
    for leaf in leaves:
        street = at(leaf, RegionLevel.STREET)
        district = at(leaf, RegionLevel.DISTRICT)
        community = at(leaf, RegionLevel.COMMUNITY) if deepest >= RegionLevel.COMMUNITY else street
        stems = road_stems[street.pk] + [street.name[:2]]
        roads = tuple(
            f"{stem}{ROAD_SUFFIXES[(i + len(stem)) % len(ROAD_SUFFIXES)]}"
            for i, stem in enumerate(stems)
        )
        places.append(
            Place(
                region=leaf,
                grid=leaf.name,
                community=community.name,
                street=street.name,
                district=district.name,
                street_id=street.pk,
                district_id=district.pk,
                community_id=community.pk,
                rural=district.name.endswith("县") or community.name.endswith("村"),
                box=_box(leaf),
                roads=roads,
            )
        )
    categories = {c.path: c for c in Category.objects.filter(is_active=True)}
    city = DemoCity(
        places=places,
        categories=categories,
        templates=[t for t in TEMPLATES if t.path in categories],
    )
    root_id = regions[0].pk if regions else 0
    for unit in Unit.objects.filter(is_active=True).order_by("pk"):
        if unit.kind == UnitKind.COMMAND_CENTRE and unit.region_id == root_id:
            city.city_centre = city.city_centre or unit.name
        elif unit.kind == UnitKind.COMMUNITY_COMMITTEE:
            city.committees.setdefault(unit.region_id, unit)
        elif unit.kind == UnitKind.GOVERNMENT:
            city.street_offices.setdefault(unit.region_id, unit)
            city.district_units.setdefault(unit.region_id, unit)
        elif unit.kind == UnitKind.DEPARTMENT and "城市管理" in unit.name:
            city.district_units[unit.region_id] = unit
        if unit.region_id == root_id and unit.name.endswith("信访局"):
            city.letters_unit = unit.name
        if unit.region_id == root_id and unit.short_name in dict(MASS_ORGANISATIONS).values():
            city.mass_organisations.append(unit.name)
    return city


# --- Generation ---------------------------------------------------------------------------------


def _pick(rng: random.Random, shares: Sequence[tuple[str, float]]) -> str:
    x = rng.random()
    chosen = shares[-1][0]
    for value, share in shares:
        x -= share
        if x < 0:
            chosen = value
            break
    return _plain(chosen)


def _plain(value: str) -> str:
    """The value of a choice, so that specs hold plain strings."""
    return str(value.value) if isinstance(value, Enum) else value


class _Generator:
    def __init__(
        self, city: DemoCity, rng: random.Random, now: dt.datetime, clock: Clock, routes: Routes
    ) -> None:
        self.city = city
        self.rng = rng
        self.now = now
        self.clock = clock
        self.calendar = clock.calendar
        self.routes = routes
        self._candidates: dict[tuple[bool, bool, str, int], tuple[list[Template], list[float]]] = {}
        weights = []
        for place in city.places:
            base = COUNTY_WEIGHT if place.rural else 1.0
            weights.append(base * min(2.5, max(0.5, rng.lognormvariate(0, 0.5))))
        self.place_weights = list(itertools.accumulate(weights))  # cumulative, for choices()
        self._codes: set[str] = set()

    # -- when --

    def submission_time(self, channel: str, within_days: float) -> dt.datetime:
        rng = self.rng
        hours = PATROL_HOURS if channel == Channel.GRID_PATROL else HOURS
        latest = self.now - dt.timedelta(minutes=10)
        while True:
            day = (self.now - dt.timedelta(days=rng.uniform(0, within_days))).astimezone(LOCAL)
            weight = MONTH_WEIGHT[day.month] / 1.2
            if not self.calendar.is_workday(day.date()):
                weight *= REST_DAY_WEIGHT
            if rng.random() >= weight:
                continue
            hour = rng.choices(range(24), weights=hours)[0]
            moment = dt.datetime.combine(
                day.date(), dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=LOCAL
            )
            if moment < latest:
                return moment.astimezone(dt.UTC)

    def office(self, moment: dt.datetime, latest: dt.datetime | None = None) -> dt.datetime:
        """Move ``moment`` into the next office hours (8:30-18:00 on a working day), unless
        that would reach ``latest``."""
        local = moment.astimezone(LOCAL)
        start, end = dt.time(8, 30), dt.time(18, 0)
        if self.calendar.is_workday(local.date()) and start <= local.time() <= end:
            return moment
        day = local.date()
        if not (self.calendar.is_workday(day) and local.time() < start):
            day += dt.timedelta(days=1)
            while not self.calendar.is_workday(day):
                day += dt.timedelta(days=1)
        moved = dt.datetime.combine(day, start, tzinfo=LOCAL) + dt.timedelta(
            minutes=self.rng.uniform(0, 120)
        )
        moved = moved.astimezone(dt.UTC)
        if latest is not None and moved >= latest:
            return moment
        return moved

    def daytime(self, moment: dt.datetime) -> dt.datetime:
        """Move ``moment`` to 8:00-20:00 (any day): follow-up calls, on-site checks."""
        local = moment.astimezone(LOCAL)
        if 8 <= local.hour < 20:
            return moment
        day = local.date() + dt.timedelta(days=1 if local.hour >= 20 else 0)
        moved = dt.datetime.combine(day, dt.time(8), tzinfo=LOCAL) + dt.timedelta(
            minutes=self.rng.uniform(0, 180)
        )
        return moved.astimezone(dt.UTC)

    # -- what and where --

    def template(self, place: Place, patrol: bool, urgency: str, month: int) -> Template:
        key = (place.rural, patrol, urgency, month)
        if key not in self._candidates:
            self._candidates[key] = self._candidate_list(*key)
        templates, cumulative = self._candidates[key]
        return self.rng.choices(templates, cum_weights=cumulative)[0]

    def _candidate_list(
        self, rural: bool, patrol: bool, urgency: str, month: int
    ) -> tuple[list[Template], list[float]]:
        area = "rural" if rural else "urban"
        pool = [t for t in self.city.templates if t.area in ("any", area)]
        filters: list[Callable[[Template], bool]] = [
            lambda t: (
                (not patrol or t.patrol)
                and (urgency != Urgency.DANGER or t.danger)
                and (urgency != Urgency.URGENT or t.urgent)
            ),
            lambda t: urgency != Urgency.DANGER or t.danger,
            lambda t: True,
        ]
        for keep in filters:
            chosen = [t for t in pool if keep(t)]
            if chosen:
                break
        else:
            chosen = list(self.city.templates)
        weights = []
        for t in chosen:
            season = 1.0 if not t.months else (3.0 if month in t.months else 0.1)
            weights.append(t.weight * season)
        return chosen, list(itertools.accumulate(weights))

    def words(self, place: Place, template: Template) -> dict[str, str]:
        rng = self.rng
        roads = place.roads
        road = rng.choice(roads)
        road2 = rng.choice([r for r in roads if r != road] or [f"{place.street[:2]}大道"])
        cstem, sstem = place.community[:2], place.street[:2]
        estate = f"{cstem}{rng.choice(ESTATE_SUFFIXES)}"
        building, unit = rng.randint(1, 28), rng.randint(1, 4)
        school = rng.choice(
            (f"{sstem}小学", f"{sstem}实验小学", f"{sstem}第二小学", f"{cstem}幼儿园")
        )
        clinic = f"{place.street}卫生院" if place.rural else f"{place.street}社区卫生服务中心"
        hospital = rng.choice((f"{place.district}人民医院", clinic))
        brand = rng.choice(BRANDS)
        company = f"示范市{brand}{rng.choice(INDUSTRIES)}有限公司"
        where = {
            "home": (
                f"{place.community}{building}栋{unit}单元"
                if not place.rural
                else f"{place.community}{rng.randint(1, 12)}组"
            ),
            "estate": f"{place.community}{estate}" if not place.rural else place.community,
            "road": f"{road}{rng.randint(1, 399)}号附近",
            "shop": f"{road}{rng.randint(1, 399)}号",
            "school": f"{school}附近",
            "company": f"{place.street}{brand}工业园",
            "village": f"{place.community}{rng.randint(1, 12)}组",
            "none": place.community,
        }[template.place]
        return {
            "where": where,
            "road": road,
            "road2": road2,
            "community": place.community,
            "street": place.street,
            "district": place.district,
            "estate": estate,
            "building": str(building),
            "floor": str(rng.randint(12, 25)),
            "school": school,
            "hospital": hospital,
            "brand": brand,
            "company": company,
            "few": str(rng.randint(2, 6)),
            "many": str(rng.randint(8, 60)),
            "days": str(rng.randint(2, 12)),
            "months": str(rng.randint(2, 7)),
            "years": str(rng.randint(2, 6)),
            "amount": str(rng.randint(3, 90) * 1000 + rng.choice((0, 500))),
            "fee": str(rng.randint(20, 160) * 100),
            "price": str(rng.randint(1, 9)),
            "bus": str(rng.randint(1, 128)),
            "night": rng.choice(NIGHTS),
            "dispute": rng.choice(DISPUTES),
            "fee_kind": rng.choice(FEE_KINDS),
        }

    def person(self) -> str:
        rng = self.rng
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        return rng.choice(SURNAMES) + given

    def phone(self) -> str:
        rng = self.rng
        return f"1{rng.choice('3578')}{rng.randrange(10)}****{rng.randrange(10000):04d}"

    def tracking_code(self) -> str:
        alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        while True:
            code = "".join(self.rng.choice(alphabet) for _ in range(10))
            if code not in self._codes:
                self._codes.add(code)
                return code

    # -- one case --

    def case(
        self, number: str, submitted_at: dt.datetime, channel: str, outcome: str, place: Place
    ) -> HistoricalCase:
        rng = self.rng
        urgency = _pick(rng, URGENCY_SHARES)
        month = submitted_at.astimezone(LOCAL).month
        template = self.template(place, channel == Channel.GRID_PATROL, urgency, month)
        category = self.city.categories[template.path]
        complexity = (
            Complexity.COMPLEX if rng.random() < template.complex_share else Complexity.ORDINARY
        )
        words = self.words(place, template)
        variant = rng.randrange(len(template.details))
        title = rng.choice(template.titles[variant].split("|")).format(**words)
        detail = template.details[variant].format(**words)
        asks = CONSULTATION_ASKS if template.kind == CaseKind.CONSULTATION else ASKS
        org = rng.choice(self.city.mass_organisations or ["市总工会"])
        intro = CHANNEL_INTROS.get(channel, "").format(org=org)
        description = f"{intro}{detail}{rng.choice(asks)}"
        anonymous = channel != Channel.GRID_PATROL and rng.random() < ANONYMOUS
        committee = self.city.committees.get(place.community_id)
        if anonymous:
            name, phone = "", ""
        elif channel == Channel.HOTLINE and rng.random() < 0.7:
            name, phone = rng.choice(SURNAMES) + rng.choice(("先生", "女士")), self.phone()
        else:
            name, phone = self.person(), self.phone()
        desks: dict[str, tuple[str, str]] = {
            Channel.HOTLINE: ("dispatcher", self.city.city_centre),
            Channel.GRID_PATROL: ("grid_worker", committee.name if committee else ""),
            Channel.LETTERS_VISITS: ("dispatcher", self.city.letters_unit),
            Channel.MASS_ORGANISATION: ("", org),
            Channel.WEB: ("resident", ""),
            Channel.MOBILE: ("resident", ""),
        }
        role, desk = desks.get(channel, ("", ""))
        west, south, east, north = place.box
        proposed = self.routes.unit_for(category, place.region)
        reply = template.replies[variant % len(template.replies)].format(**words)
        steps = self.steps(
            submitted_at, outcome, category, urgency, complexity, place, proposed, reply,
            follow_up=not anonymous and channel != Channel.GRID_PATROL,
        )  # fmt: skip
        return HistoricalCase(
            number=number,
            tracking_code=self.tracking_code(),
            kind=_plain(template.kind),
            channel=channel,
            urgency=urgency,
            complexity=_plain(complexity),
            title=title,
            description=description,
            category_id=category.pk,
            region_id=place.region.pk,
            submitted_at=submitted_at,
            address=words["where"],
            latitude=round(south + (north - south) * rng.uniform(0.08, 0.92), 6),
            longitude=round(west + (east - west) * rng.uniform(0.08, 0.92), 6),
            reporter_name=name,
            reporter_phone=phone,
            is_anonymous=anonymous,
            submitted_by_role=role,
            submitted_by_unit=desk,
            proposed_unit_id=proposed.pk,
            steps=tuple(itertools.takewhile(lambda s: s.at < self.now, steps)),
        )

    def steps(
        self,
        t0: dt.datetime,
        outcome: str,
        category: Category,
        urgency: str,
        complexity: str,
        place: Place,
        proposed: Unit,
        reply: str,
        *,
        follow_up: bool,
    ) -> list[HistoricalStep]:
        """The case's path, as people would have taken it. The importer's clock adds the
        warnings, escalations and supervision that the times below cause."""
        rng, clock = self.rng, self.clock
        normal = urgency == Urgency.NORMAL
        steps: list[HistoricalStep] = []

        def add(action: Action, at: dt.datetime, **extra: Any) -> None:
            steps.append(HistoricalStep(action=action.value, at=at, **extra))

        dispatch_due = clock.due(Stage.DISPATCH, t0, category, urgency, Complexity.ORDINARY)
        window = dispatch_due - t0
        if outcome == "rejected":
            add(
                Action.REJECT,
                t0 + window * rng.uniform(0.1, 0.7),
                reason=rng.choice(REJECT_REASONS),
            )
            return steps
        registered_share = rng.uniform(0.03, 0.3)
        registered_at = t0 + window * registered_share
        add(Action.REGISTER, registered_at)
        feedback_due = clock.due(Stage.FEEDBACK, registered_at, category, urgency, complexity)
        if rng.random() < ESCALATED:  # too late: the clock escalates to the district first
            dispatched_at = dispatch_due + window * rng.uniform(0.2, 0.75)
        elif rng.random() < 0.13:
            dispatched_at = t0 + window * rng.uniform(0.8, 0.98)
        else:
            dispatched_at = t0 + window * (registered_share + rng.uniform(0.05, 0.45))

        if outcome == "stalled-returned" or (outcome == "full" and rng.random() < RETURNED):
            wrong_first = rng.random() < 0.35
            committee = self.city.committees.get(place.community_id)
            if wrong_first and committee is not None and committee.pk != proposed.pk:
                add(Action.DISPATCH, dispatched_at, unit_id=committee.pk,
                    reason=OVERRIDE_REASONS[0])  # fmt: skip
                second: Unit | None = None
            else:
                add(Action.DISPATCH, dispatched_at)
                second = self.alternative(place, proposed)
            sign_due = clock.due(Stage.SIGN, dispatched_at, category, urgency, complexity)
            returned_at = dispatched_at + (sign_due - dispatched_at) * rng.uniform(0.05, 0.5)
            if normal:
                returned_at = self.office(returned_at, sign_due)
            add(Action.RETURN, returned_at, reason=rng.choice(RETURN_REASONS))
            if outcome == "stalled-returned":
                return steps
            redispatch_window = (
                clock.due(Stage.DISPATCH, returned_at, category, urgency, complexity) - returned_at
            )
            dispatched_at = returned_at + redispatch_window * rng.uniform(0.1, 0.75)
            if second is None:
                add(Action.DISPATCH, dispatched_at)
            else:
                add(Action.DISPATCH, dispatched_at, unit_id=second.pk,
                    reason=rng.choice(OVERRIDE_REASONS[1:]))  # fmt: skip
        else:
            add(Action.DISPATCH, dispatched_at)
        if outcome == "stalled-dispatched":
            return steps

        sign_due = clock.due(Stage.SIGN, dispatched_at, category, urgency, complexity)
        roll = rng.random()
        if roll < LATE_SIGN:
            signed_at = sign_due + dt.timedelta(minutes=rng.uniform(10, 180))
        else:
            share = rng.uniform(0.8, 0.99) if roll < LATE_SIGN + 0.15 else rng.uniform(0.03, 0.75)
            signed_at = dispatched_at + (sign_due - dispatched_at) * share
            if normal:
                signed_at = self.office(signed_at, sign_due)
        add(Action.SIGN_FOR, signed_at)
        if outcome == "stalled-in-progress":
            return steps

        span = feedback_due - signed_at
        if rng.random() < LATE_REPLY or span <= dt.timedelta(minutes=5):
            late_by = (
                dt.timedelta(hours=rng.uniform(2, 120))
                if normal
                else dt.timedelta(minutes=rng.uniform(10, 180))
            )
            replied_at = max(feedback_due, signed_at) + late_by
            if normal:
                replied_at = self.office(replied_at)
        else:
            share = rng.uniform(0.8, 0.97) if rng.random() < 0.2 else rng.uniform(0.05, 0.78)
            replied_at = signed_at + span * share
            if normal:
                replied_at = self.office(replied_at, feedback_due)
        if rng.random() < SUPERVISED_BY_LEADER:
            add(Action.SUPERVISE, signed_at + (replied_at - signed_at) * rng.uniform(0.3, 0.7),
                reason=rng.choice(SUPERVISE_NOTES))  # fmt: skip
        add(Action.REPLY, replied_at, text=reply)

        verified_at = self.daytime(replied_at + dt.timedelta(hours=rng.uniform(1, 30)))
        if rng.random() < FAILED_VERIFICATION:
            add(Action.FAIL_VERIFICATION, verified_at, reason=rng.choice(FAIL_NOTES))
            rework_due = max(feedback_due, verified_at + dt.timedelta(days=1))
            replied_at = verified_at + (rework_due - verified_at) * rng.uniform(0.2, 0.8)
            add(Action.REPLY, replied_at, text=rng.choice(REWORK_REPLIES))
            verified_at = self.daytime(replied_at + dt.timedelta(hours=rng.uniform(1, 24)))
        add(Action.VERIFY, verified_at, reason=rng.choice(VERIFY_NOTES))
        closed_at = verified_at + dt.timedelta(minutes=rng.uniform(10, 360))
        add(Action.CLOSE, closed_at)
        if not follow_up:
            return steps

        rated_at = self.daytime(closed_at + dt.timedelta(hours=rng.uniform(1, 72)))
        if rng.random() < REOPENED:
            add(Action.FOLLOW_UP, rated_at, resolution=Resolution.NOT_RESOLVED,
                satisfaction=Satisfaction.UNSATISFIED,
                reason=rng.choice(NOT_RESOLVED_COMMENTS))  # fmt: skip
            reopen_due = clock.due(Stage.FEEDBACK, rated_at, category, urgency, complexity)
            replied_at = rated_at + (reopen_due - rated_at) * rng.uniform(0.2, 0.8)
            add(Action.REPLY, replied_at, text=rng.choice(REWORK_REPLIES))
            verified_at = self.daytime(replied_at + dt.timedelta(hours=rng.uniform(1, 24)))
            add(Action.VERIFY, verified_at, reason=rng.choice(VERIFY_NOTES))
            closed_at = verified_at + dt.timedelta(minutes=rng.uniform(10, 240))
            add(Action.CLOSE, closed_at)
            rated_at = self.daytime(closed_at + dt.timedelta(hours=rng.uniform(1, 48)))
        satisfaction = _pick(rng, SATISFACTION_SHARES)
        resolutions: dict[str, str] = {
            Satisfaction.SATISFIED: Resolution.RESOLVED,
            Satisfaction.BASICALLY: (
                Resolution.RESOLVED if rng.random() < 0.6 else Resolution.PARTLY
            ),
        }
        resolution = resolutions.get(satisfaction, Resolution.PARTLY)
        add(Action.FOLLOW_UP, rated_at, resolution=resolution, satisfaction=satisfaction,
            reason=rng.choice(FOLLOW_UP_COMMENTS[satisfaction]))  # fmt: skip
        return steps

    def alternative(self, place: Place, proposed: Unit) -> Unit | None:
        """Where a dispatcher sends a case that the proposed unit returned."""
        for unit in (
            self.city.street_offices.get(place.street_id),
            self.city.district_units.get(place.district_id),
        ):
            if unit is not None and unit.pk != proposed.pk:
                return unit
        return None


def generate_history(
    count: int,
    *,
    seed: int = HISTORY_SEED,
    now: dt.datetime | None = None,
    city: DemoCity | None = None,
    clock: Clock | None = None,
    routes: Routes | None = None,
) -> list[HistoricalCase]:
    """``count`` cases over the 12 months before ``now``, numbered in time order."""
    now = now or timezone.now()
    city = city or load_city()
    if count <= 0 or not city.places or not city.templates:
        return []
    rng = random.Random(seed)  # noqa: S311 (deterministic demo data, not security)
    gen = _Generator(city, rng, now, clock or Clock(), routes or Routes())
    heads: list[tuple[dt.datetime, int, str, str]] = []
    for index in range(count):
        channel = _pick(rng, CHANNEL_SHARES)
        roll = rng.random()
        if roll < REJECTED:
            outcome, within = "rejected", 365.0
        elif roll < REJECTED + STALLED:
            outcome = rng.choices(
                ("stalled-in-progress", "stalled-dispatched", "stalled-returned"),
                weights=(8, 1, 1),
            )[0]
            within = 180.0
        else:
            outcome, within = "full", 365.0
        heads.append((gen.submission_time(channel, within), index, channel, outcome))
    heads.sort()
    # Every place first (in a shuffled order), then by weight.
    order = list(range(len(city.places)))
    rng.shuffle(order)
    specs: list[HistoricalCase] = []
    per_day: dict[dt.date, int] = {}
    for position, (submitted_at, _index, channel, outcome) in enumerate(heads):
        if position < len(order):
            place = city.places[order[position]]
        else:
            place = rng.choices(city.places, cum_weights=gen.place_weights)[0]
        day = submitted_at.astimezone(LOCAL).date()
        per_day[day] = per_day.get(day, 0) + 1
        specs.append(
            gen.case(history_number(day, per_day[day]), submitted_at, channel, outcome, place)
        )
    return specs


def historical_cases() -> int:
    """How many historical (imported) cases the database holds."""
    return Case.objects.filter(number__startswith=HISTORY_PREFIX).count()


def import_history(
    count: int = HISTORY_CASES,
    *,
    seed: int = HISTORY_SEED,
    now: dt.datetime | None = None,
    report: ImportReport | None = None,
) -> int:
    """Generate and import the demo city's history, unless there is history already."""
    if count <= 0 or history_exists():
        return 0
    now = now or timezone.now()
    clock, routes = Clock(), Routes()
    specs = generate_history(count, seed=seed, now=now, clock=clock, routes=routes)
    return import_historical_cases(
        specs, actor=system_actor(), now=now, clock=clock, routes=routes, report=report
    )
