// 隐私保护指引: shown before the first report (and whenever WeChat says an API needs consent).
// The same text is filled in 小程序后台 → 设置 → 服务内容声明 → 用户隐私保护指引.
const AGREED_KEY = 'privacyAgreed'

const GUIDE = [
  '红色信箱由社区、街道使用，用来受理您反映的问题和心愿。在您提交之前，请了解我们如何使用您的信息：',
  '1. 我们收集：微信给的匿名身份标识（不含昵称、头像）；您写下的诉求、心愿和评价；您拍摄或选择的照片；您选择的位置或楼栋；您主动留下的电话。',
  '2. 用途：把诉求分派给所在网格的网格员及需要处理的部门，办理、回访和评价；只在办理需要时联系您。',
  '3. 谁能看到：您本人，以及负责您所在网格、社区、街道和承办部门的工作人员。公示页面只显示打码后的内容，不显示您的姓名、电话和照片。',
  '4. 保存期限：办结或撤回满36个月后，联系方式删除，文字中的姓名和号码打码；您可以向社区申请导出或删除自己的信息。',
  '5. 订阅消息：您同意后，我们只在诉求被接单、办结、重新办理或有回复时通知您。',
]

function agreed() {
  return !!wx.getStorageSync(AGREED_KEY)
}

function agree() {
  wx.setStorageSync(AGREED_KEY, true)
  if (pending) { pending({ event: 'agree', buttonId: 'agree-privacy' }); pending = null }
}

function decline() {
  if (pending) { pending({ event: 'disagree' }); pending = null }
}

let pending = null

// WeChat's own check: when a privacy API is called before consent, show our guide.
function listen() {
  if (!wx.onNeedPrivacyAuthorization) return
  wx.onNeedPrivacyAuthorization((resolve) => {
    pending = resolve
    const pages = getCurrentPages ? getCurrentPages() : []
    const top = pages[pages.length - 1]
    if (top && top.setData) top.setData({ showPrivacy: true })
  })
}

function openContract() {
  if (wx.openPrivacyContract) wx.openPrivacyContract({})
}

module.exports = { GUIDE, agreed, agree, decline, listen, openContract }
